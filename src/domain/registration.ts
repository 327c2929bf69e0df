/**
 * Which managed scale sets a verified managed identity speaks for (the registration broker, S2):
 * - `xms_mirid` naming a scale set: its system-assigned identity, that scale set;
 * - `xms_mirid` naming a user-assigned identity, or an `oid` a scale set lists: every managed scale
 *   set that carries that identity (the instance named in the request must then be in one of them);
 * - a plain VM, an unmanaged scale set, any other identity: none.
 * Pure: takes the claims and the managed scale sets, returns the candidates or why there are none.
 */
import type { ScaleSet } from '../clients/types.js';

export interface CallerIdentity {
  oid?: string;
  appid?: string;
  xmsMirid?: string;
}

export type IdentityMatch<S extends ScaleSet> = { ok: true; scaleSets: S[] } | { ok: false; reason: string };

const SCALE_SET = /\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/[^/]+$/i;
const VIRTUAL_MACHINE = /\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+$/i;

const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

export function scaleSetsOfIdentity<S extends ScaleSet>(
  caller: CallerIdentity,
  managed: S[],
): IdentityMatch<S> {
  const mirid = caller.xmsMirid;
  if (mirid && VIRTUAL_MACHINE.test(mirid))
    return { ok: false, reason: 'the identity is a virtual machine, not a scale set kiln manages' };
  if (mirid && SCALE_SET.test(mirid)) {
    // A system-assigned identity: the scale set itself, when kiln manages it.
    const set = managed.find((s) => same(s.id, mirid));
    return set
      ? { ok: true, scaleSets: [set] }
      : { ok: false, reason: 'the identity is a scale set kiln does not manage' };
  }
  const scaleSets = managed.filter((s) => {
    const identity = s.identity;
    if (!identity) return false;
    if (mirid) return identity.userAssigned.some((u) => same(u.resourceId, mirid));
    // No resource id in the token (a token issued without it): the object id must be one a scale set lists.
    return (
      same(identity.principalId, caller.oid) ||
      identity.userAssigned.some((u) => same(u.principalId, caller.oid) || same(u.clientId, caller.appid))
    );
  });
  return scaleSets.length > 0
    ? { ok: true, scaleSets }
    : { ok: false, reason: 'the identity belongs to no scale set kiln manages' };
}

/**
 * The instance id a Uniform scale set's computer name carries: Azure names an instance's computer
 * `<computerNamePrefix><instance id in base 36, 6 characters>`. undefined when the name does not
 * have that form (a Flexible scale set's names do not), so the caller lists the instances instead.
 */
export function instanceIdOfComputerName(
  computerNamePrefix: string,
  computerName: string,
): string | undefined {
  const prefix = computerNamePrefix.toLowerCase();
  const name = computerName.toLowerCase();
  if (!name.startsWith(prefix)) return undefined;
  const suffix = name.slice(prefix.length);
  return /^[0-9a-z]{6}$/.test(suffix) ? String(parseInt(suffix, 36)) : undefined;
}

/**
 * What one registration answer is for: one provisioning of one instance (a reimage provisions it
 * again). The broker records it when it answers; the rollout's health looks read it.
 */
export function provisioningKey(
  scaleSetId: string,
  instanceId: string,
  provisionedAt: string | undefined,
): string {
  return `${scaleSetId}/${instanceId}@${provisionedAt ?? ''}`.toLowerCase();
}
