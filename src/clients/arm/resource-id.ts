/** Splits ARM resource ids (compared case-insensitively, as ARM answers them in mixed case). */
export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function parseResourceId(id: string, type: 'virtualMachineScaleSets' | 'jobs'): ParsedResourceId {
  const provider = type === 'jobs' ? 'Microsoft\\.App' : 'Microsoft\\.Compute';
  const re = new RegExp(
    `^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/${provider}/${type}/([^/]+)/?$`,
    'i',
  );
  const m = re.exec(id.trim());
  if (!m) throw new TypeError(`not a ${type} resource id: ${id}`);
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}

export function resourceGroupOf(id: string): string {
  return /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? '';
}
