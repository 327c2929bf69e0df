/**
 * The autoscaler's side effects (issue 19): take and give back a scale set's lease, raise a scale
 * set's capacity, and scale in exactly the instances the plan chose after checking each is still idle
 * right before it goes (the rollout's drain: GitHub refuses to delete a busy runner, an Azure DevOps
 * agent is disabled and seen idle). Each is safe to retry: a lease is renewed by its own owner, a
 * capacity is only ever raised to a target (a retry that finds it there does nothing), and a scale-in
 * deletes only instances that are still there.
 */
import type { Fleet } from '../domain/hygiene.js';
import type { AcquireOutcome, LeaseHolder, LeasePurpose } from '../leases/scale-set-leases.js';
import type { ActivityDeps } from './deps.js';
import { scaleSetName } from './inventory.js';
import { attempt, type ActivityResult } from './result.js';
import { drainAgents, drainRunners, enableAll } from './rollout.js';

export interface AcquireLeaseInput {
  scaleSet: string;
  owner: string;
  purpose: LeasePurpose;
  /** The orchestration's time now, and how long the lease holds from it. */
  now: string;
  minutes: number;
}

/** null: no lease table is configured (KILN_TABLE_ENDPOINT empty). */
export type AcquireLeaseOutput = ActivityResult<AcquireOutcome | null>;

export function createAcquireScaleSetLeaseActivity({ leases }: ActivityDeps) {
  return (input: AcquireLeaseInput): Promise<AcquireLeaseOutput> =>
    attempt(`take the lease of ${input.scaleSet}`, async () => {
      if (!leases) return null;
      const holder: LeaseHolder = {
        owner: input.owner,
        purpose: input.purpose,
        expiresAt: new Date(Date.parse(input.now) + input.minutes * 60_000).toISOString(),
      };
      return leases.acquire(input.scaleSet, holder, input.now);
    });
}

export interface ReleaseLeaseInput {
  scaleSet: string;
  owner: string;
}

export function createReleaseScaleSetLeaseActivity({ leases }: ActivityDeps) {
  return (input: ReleaseLeaseInput): Promise<ActivityResult<null>> =>
    attempt(`give back the lease of ${input.scaleSet}`, async () => {
      await leases?.release(input.scaleSet, input.owner);
      return null;
    });
}

export interface RaiseCapacityInput {
  scaleSetId: string;
  /** The capacity to reach; a scale set already at or above it is left as it is. */
  capacity: number;
}

export interface RaiseCapacityResult {
  /** raised: the write was accepted; unchanged: already there (a retry, or someone else); gone: no scale set. */
  outcome: 'raised' | 'unchanged' | 'gone';
  before: number;
  after: number;
}

/**
 * Raises sku.capacity to `capacity`, read right before and written only if the scale set did not
 * change since that read (If-Match): a conflicting write is read again, up to three times. Never lowers
 * it: lowering capacity lets Azure choose which instances go, busy or not (S1).
 */
export function createRaiseCapacityActivity({ arm }: ActivityDeps) {
  return (input: RaiseCapacityInput): Promise<ActivityResult<RaiseCapacityResult>> =>
    attempt(`raise the capacity of ${scaleSetName(input.scaleSetId)} to ${input.capacity}`, async () => {
      for (let round = 1; ; round++) {
        const now = await arm.getScaleSet(input.scaleSetId);
        if (!now) return { outcome: 'gone', before: 0, after: 0 };
        if (now.capacity >= input.capacity)
          return { outcome: 'unchanged', before: now.capacity, after: now.capacity };
        const written = await arm.setCapacity(
          input.scaleSetId,
          input.capacity,
          now.etag ? { ifMatch: now.etag } : {},
        );
        if (written === 'changed') return { outcome: 'raised', before: now.capacity, after: input.capacity };
        if (round >= 3)
          throw new Error(`the scale set kept changing while kiln raised its capacity (${round} attempts)`);
      }
    });
}

export interface ScaleInInput {
  scaleSetId: string;
  fleet: Fleet;
  /** The instances the plan chose, with the registrations its look saw under their names. */
  instances: { instanceId: string; computerName: string; registrationIds?: number[] }[];
}

export interface ScaleInResult {
  /** Instances whose delete ARM accepted. */
  deleted: string[];
  /** Busy at the check right before (or the service said so): kept (S1). */
  busy: string[];
  /** Gone or already being deleted by the time kiln looked: nothing to do. */
  gone: string[];
  /** GitHub runners and Azure DevOps agents kiln removed with their instances. */
  registrationsRemoved: number;
}

/**
 * Deletes the chosen instances that are still idle right before, in one batch per scale set: each
 * is drained as a rollout drains it (GitHub: the runner's DELETE, refused with 422 while a job runs;
 * Azure DevOps: the agent disabled, then one fresh list says whether it took a job meanwhile, and a
 * busy one is enabled again), then the drained ones go in one delete call. Agents of deleted
 * instances are removed; if the delete fails, the agents kiln disabled are enabled again (S9).
 */
export function createScaleInActivity(deps: ActivityDeps) {
  return (input: ScaleInInput): Promise<ActivityResult<ScaleInResult>> =>
    attempt(
      `scale in ${input.instances.length} instance(s) of ${scaleSetName(input.scaleSetId)}`,
      async () => {
        // Only instances still there and settled: a retry after an accepted delete finds them Deleting.
        const present = new Map(
          (await deps.arm.listInstances(input.scaleSetId))
            .filter((i) => i.provisioningState.toLowerCase() !== 'deleting')
            .map((i) => [i.instanceId, i]),
        );
        const candidates = input.instances.filter((i) => present.has(i.instanceId));
        const gone = input.instances.filter((i) => !present.has(i.instanceId)).map((i) => i.instanceId);
        if (candidates.length === 0) return { deleted: [], busy: [], gone, registrationsRemoved: 0 };
        const drained =
          input.fleet === 'github'
            ? await drainRunners(deps, candidates)
            : await drainAgents(deps, candidates);
        if (drained.drained.length === 0)
          return { deleted: [], busy: drained.busy, gone, registrationsRemoved: 0 };
        try {
          await deps.arm.startDeleteInstances(input.scaleSetId, drained.drained);
        } catch (error) {
          if (deps.ado && drained.disabled.length > 0) await enableAll(deps.ado, drained.disabled);
          throw error;
        }
        let removed = drained.runnersRemoved;
        if (deps.ado)
          for (const id of drained.disabled) {
            // The instance is going: its agent would only linger offline until hygiene removed it.
            const outcome = await deps.ado.deleteAgent(id).catch(() => 'failed' as const);
            if (outcome === 'deleted') removed++;
          }
        return { deleted: drained.drained, busy: drained.busy, gone, registrationsRemoved: removed };
      },
    );
}
