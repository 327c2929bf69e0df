/**
 * The health gate of a wave: look at the upgraded instances until each is healthy (on the wave's
 * image, its runner or agent online) or the deadline passes, and say why the unhealthy ones are.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { assessWave, staleLook, type WaveLook } from '../domain/rollout.js';
import { Activities } from '../names.js';
import { callActivity } from './call-activity.js';
import { onTick } from './durable-time.js';
import { ROLLOUT_TIMING, type ScaleSetRolloutInput } from './rollout-progress.js';

/**
 * Looks at the wave until every instance is healthy or the deadline passes. The first look waits as
 * long as a first wave took (when known), so a wave is usually proven by one look; looks fall on
 * whole poll ticks so that scale sets rolling in parallel share one registration list.
 */
export function* awaitHealth(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  wave: string[],
  /** The image the wave moved its instances to. */
  imageReferenceId: string,
  healthyAfterMinutes: number | undefined,
): Generator<
  Task,
  { healthy: string[]; unhealthy: string[]; failed: string[]; minutes: number; lastLook?: WaveLook },
  unknown
> {
  const { scaleSet, options } = input;
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const elapsed = () => (context.df.currentUtcDateTime.getTime() - Date.parse(startedAt)) / 60_000;
  const healthy: string[] = [];
  const failed: string[] = [];
  let waiting = [...wave];
  let wait = Math.min(
    Math.max(ROLLOUT_TIMING.healthPollMinutes, healthyAfterMinutes ?? 0),
    options.healthDeadlineMinutes,
  );
  for (;;) {
    yield context.df.createTimer(onTick(context, wait, ROLLOUT_TIMING.healthPollMinutes));
    wait = ROLLOUT_TIMING.healthPollMinutes;
    const check = yield* callActivity(context, Activities.checkWaveHealth, {
      scaleSetId: scaleSet.id,
      fleet: scaleSet.fleet,
      instanceIds: waiting,
    });
    const assessment = check.ok
      ? assessWave({
          wave: waiting,
          instances: check.value.instances,
          registrations: check.value.registrations,
          served: check.value.served,
          waveStartedAt: startedAt,
          now: context.df.currentUtcDateTime.toISOString(),
          healthDeadlineMinutes: options.healthDeadlineMinutes,
          imageReferenceId,
        })
      : undefined;
    if (assessment && check.ok) {
      healthy.push(...assessment.healthy);
      failed.push(...assessment.failed);
      waiting = [...assessment.starting];
      if (waiting.length === 0)
        return {
          healthy,
          unhealthy: assessment.unhealthy,
          failed,
          minutes: Math.ceil(elapsed()),
          lastLook: staleLook(check.value),
        };
    } else if (elapsed() >= options.healthDeadlineMinutes) {
      // Health could not be read until the deadline: treat what is unproven as unhealthy.
      return { healthy, unhealthy: waiting, failed, minutes: Math.ceil(elapsed()) };
    }
  }
}

/** Why each unhealthy instance is: its upgrade failed in ARM, or its runner/agent never came online. */
export function unhealthyReasons(
  health: { unhealthy: string[]; failed: string[] },
  fleet: ScaleSetRolloutInput['scaleSet']['fleet'],
  deadlineMinutes: number,
): string {
  const silent = health.unhealthy.filter((id) => !health.failed.includes(id));
  return [
    health.failed.length > 0 ? `${health.failed.join(', ')}: upgrade failed or instance gone` : '',
    silent.length > 0
      ? `${silent.join(', ')}: no ${fleet === 'github' ? 'runner' : 'agent'} online within ${deadlineMinutes} min`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
}
