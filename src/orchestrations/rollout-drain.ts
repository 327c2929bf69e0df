/**
 * Taking a wave's instances out of service and giving them back: drain idle runners or agents at a
 * pace the services allow, and undo every drain once the wave is over or did not move them (S9).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { DrainInput, DrainResult } from '../activities/rollout.js';
import type { WaveLook } from '../domain/rollout.js';
import { Activities } from '../names.js';
import { callActivities, callActivity, inPacedRounds, replaySafeLog } from './call-activity.js';
import type { ScaleSetRolloutInput } from './rollout-progress.js';

/** Drains per activity, and a minute (see drainPaced). */
const DRAINS = { size: 50, perMinute: 100 };

/**
 * Drains a wave in rounds of at most `DRAINS.perMinute` instances a minute (each round in activities
 * of `DRAINS.size`, in parallel): a GitHub drain is a DELETE, 5 of the 900 points a minute
 * GitHub's secondary limit allows, so a wave of a large scale set is spread over minutes. A failure
 * stops the drain and says what the chunks that succeeded already took (`partial`), to give back.
 */
export function* drainPaced(
  context: OrchestrationContext,
  scaleSet: ScaleSetRolloutInput['scaleSet'],
  instances: DrainInput['instances'],
): Generator<
  Task,
  { ok: true; value: DrainResult } | { ok: false; error: { message: string }; partial: DrainResult },
  unknown
> {
  const merged: DrainResult = { drained: [], busy: [], disabled: [], runnersRemoved: 0 };
  let failure: { message: string } | undefined;
  yield* inPacedRounds(context, instances, DRAINS, function* (chunks) {
    const results = yield* callActivities(
      context,
      chunks.map((chunk) => ({
        name: Activities.drainInstances,
        input: { scaleSetId: scaleSet.id, fleet: scaleSet.fleet, instances: chunk },
      })),
    );
    for (const r of results) {
      if (!r.ok) {
        failure ??= r.error;
        continue;
      }
      merged.drained.push(...r.value.drained);
      merged.busy.push(...r.value.busy);
      merged.disabled.push(...r.value.disabled);
      merged.runnersRemoved += r.value.runnersRemoved;
    }
    return !failure;
  });
  return failure ? { ok: false, error: failure, partial: merged } : { ok: true, value: merged };
}

/** The instances to drain with the registrations the look saw for each. */
export function drainList(look: WaveLook, instanceIds: string[]): DrainInput['instances'] {
  return instanceIds.map((id) => {
    const instance = look.instances.find((i) => i.instanceId === id)!;
    const ids = look.registrations[instance.computerName.toLowerCase()]?.ids;
    return { instanceId: id, computerName: instance.computerName, ...(ids ? { registrationIds: ids } : {}) };
  });
}

/** Gives back what a drain took when the wave did not move those instances, or once it is over (S9). */
export function* giveBack(
  context: OrchestrationContext,
  scaleSet: ScaleSetRolloutInput['scaleSet'],
  agentIds: number[],
  notUpgraded: string[],
): Generator<Task, void, unknown> {
  const reimage = scaleSet.fleet === 'github' ? notUpgraded : [];
  if (agentIds.length === 0 && reimage.length === 0) return;
  const back = yield* callActivity(context, Activities.returnDrained, {
    scaleSetId: scaleSet.id,
    fleet: scaleSet.fleet,
    agentIds,
    reimage,
  });
  if (!back.ok)
    replaySafeLog(context, `${scaleSet.name}: giving back drained instances failed: ${back.error.message}`);
}
