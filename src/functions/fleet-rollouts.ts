/**
 * The rollouts running now, for GET /api/fleet's pace: read through the durable client and shaped
 * from what each orchestration shows in its custom status — a rollout's scale sets (queued until
 * their sub-orchestration ends) and each scale set rollout's instances moved and first wave
 * (rollout-progress.ts). A rebuild's canary counts as a rollout of one scale set.
 */
import type { DurableClient, OrchestrationRuntimeStatus } from 'durable-functions';
import type { RolloutScaleSetProgress, RunningRollout } from '../domain/fleet-drift.js';
import { Orchestrations } from '../names.js';
import { ACTIVE_RUNTIME_STATUSES, isActiveStatus } from '../run-status.js';
import { parentOf, record, type DurableStatusLike } from './runs-view.js';

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const count = (value: unknown): number => (typeof value === 'number' && value >= 0 ? value : 0);

function progressOf(child: DurableStatusLike): RolloutScaleSetProgress {
  const status = record(child.customStatus);
  const id = child.instanceId ?? '';
  const phase = text(status.phase);
  const firstWaveAt = text(status.firstWaveAt);
  return {
    name: text(status.scaleSet) ?? id.slice(id.lastIndexOf(':') + 1),
    state: isActiveStatus(child.runtimeStatus) ? 'rolling' : 'ended',
    ...(phase ? { phase } : {}),
    onNewVersion: count(status.onNewVersion),
    ...(firstWaveAt ? { firstWaveAt } : {}),
  };
}

/**
 * The rollouts among `all` instances that still move a scale set: a running parent whose scale set
 * rollouts run or are queued. Every scale set rollout it started counts for its pace, ended or not.
 */
export function runningRollouts(all: DurableStatusLike[]): RunningRollout[] {
  const byId = new Map(all.map((s) => [s.instanceId ?? '', s]));
  const children = new Map<string, DurableStatusLike[]>();
  for (const s of all) {
    const parent = parentOf(s.instanceId ?? '');
    if (s.name !== Orchestrations.rolloutScaleSet || !parent) continue;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  // A rollout that started no scale set yet still has its scale sets queued in its custom status.
  for (const s of all)
    if (
      s.name === Orchestrations.rollout &&
      isActiveStatus(s.runtimeStatus) &&
      !children.has(s.instanceId ?? '')
    )
      children.set(s.instanceId ?? '', []);

  const rollouts: RunningRollout[] = [];
  for (const [run, kids] of [...children].sort(([a], [b]) => a.localeCompare(b))) {
    const parent = byId.get(run);
    if (!parent || !isActiveStatus(parent.runtimeStatus)) continue;
    const started = kids.map(progressOf);
    const queued = Object.entries(record(record(parent.customStatus).scaleSets))
      .filter(([name, v]) => record(v).state === 'queued' && !started.some((s) => s.name === name))
      .map(([name]): RolloutScaleSetProgress => ({ name, state: 'queued', onNewVersion: 0 }));
    const scaleSets = [...started, ...queued];
    const version =
      text(record(parent.customStatus).version) ??
      kids.map((k) => text(record(k.customStatus).version)).find(Boolean);
    if (!version || !scaleSets.some((s) => s.state !== 'ended')) continue;
    rollouts.push({ run, version, scaleSets });
  }
  return rollouts;
}

/** Reads the running rollouts: the active instances, then everything created since the oldest of them. */
export async function readRunningRollouts(client: DurableClient): Promise<RunningRollout[]> {
  const active = (await client.getStatusBy({
    runtimeStatus: [...ACTIVE_RUNTIME_STATUSES] as OrchestrationRuntimeStatus[],
  })) as DurableStatusLike[];
  const created = active
    .filter((s) => s.name === Orchestrations.rollout || s.name === Orchestrations.rebuild)
    .map((s) => (s.createdTime ? new Date(s.createdTime).getTime() : Number.NaN))
    .filter((t) => !Number.isNaN(t));
  if (created.length === 0) return [];
  const all = (await client.getStatusBy({
    createdTimeFrom: new Date(Math.min(...created)),
  })) as DurableStatusLike[];
  return runningRollouts(all);
}
