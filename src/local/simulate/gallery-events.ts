/**
 * Someone outside kiln publishing a gallery image version, and the Azure Resource Manager events
 * Event Grid delivers about it: at least once, duplicated and out of order, as the real service
 * may. Used by `kiln simulate --trigger eventgrid|http-rollout`.
 */
import type { FakeCloud } from '../fake-cloud/index.js';
import type { ImageKind, Scenario } from '../scenario/types.js';

/** Writes the version into the fake gallery, replicating to every scenario region (takes `latency.replication`). */
export function publishOutsideKiln(
  cloud: FakeCloud,
  scenario: Scenario,
  image: ImageKind,
  version: string,
): void {
  cloud.world.applyChange({
    atMinutes: 0,
    action: 'publish',
    image,
    version,
    excludeFromLatest: false,
    unhealthy: scenario.images[image].unhealthy,
  });
}

/** A Microsoft.Resources.ResourceWriteSuccess event (EventGridEvent schema) for a gallery image version. */
export function versionWrittenEvent(
  cloud: FakeCloud,
  image: ImageKind,
  version: string,
  at: Date,
): Record<string, unknown> {
  const world = cloud.world;
  const resourceId = world.versionId(image, version);
  const correlationId = world.uuid();
  return {
    id: world.uuid(),
    topic: `/subscriptions/${world.names.subscriptionId}/resourceGroups/${world.names.galleryResourceGroup}`,
    subject: resourceId,
    eventType: 'Microsoft.Resources.ResourceWriteSuccess',
    eventTime: at.toISOString(),
    data: {
      authorization: {
        scope: resourceId,
        action: 'Microsoft.Compute/galleries/images/versions/write',
        evidence: { role: 'Contributor' },
      },
      claims: {},
      correlationId,
      httpRequest: {
        clientRequestId: world.uuid(),
        clientIpAddress: '203.0.113.7',
        method: 'PUT',
        url: `https://management.azure.com${resourceId}?api-version=2024-03-03`,
      },
      resourceProvider: 'Microsoft.Compute',
      resourceUri: resourceId,
      operationName: 'Microsoft.Compute/galleries/images/versions/write',
      status: 'Succeeded',
      subscriptionId: world.names.subscriptionId,
      tenantId: world.names.tenantId,
    },
    dataVersion: '2',
    metadataVersion: '1',
  };
}

export interface PlannedDelivery {
  /** Minutes after the version was written. */
  afterMinutes: number;
  image: ImageKind;
  version: string;
  duplicate: number;
  /** The late delivery for an older version. */
  late?: true;
}

/**
 * When each event reaches kiln: the first copy a minute after the write, the duplicates spread over
 * the next minutes in a shuffled (but reproducible) order, and — out of order — a late event for an
 * older version (the scenario's `eventgrid.lateOlderEvent`).
 */
export function deliveryPlan(
  image: ImageKind,
  version: string,
  duplicates: number,
  lateOlder?: { version: string; afterMinutes: number },
): PlannedDelivery[] {
  const plan: PlannedDelivery[] = [];
  const offsets = Array.from({ length: duplicates }, (_, i) => 1 + i * 2);
  // A fixed permutation: reverse every other pair, so copies arrive out of their send order.
  for (let i = 0; i + 1 < offsets.length; i += 2)
    [offsets[i], offsets[i + 1]] = [offsets[i + 1]!, offsets[i]!];
  offsets.forEach((afterMinutes, duplicate) => plan.push({ afterMinutes, image, version, duplicate }));
  if (lateOlder)
    plan.push({
      afterMinutes: lateOlder.afterMinutes,
      image,
      version: lateOlder.version,
      duplicate: 0,
      late: true,
    });
  return plan.sort((a, b) => a.afterMinutes - b.afterMinutes);
}
