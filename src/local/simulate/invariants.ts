/**
 * The simulator's judge. The fake world knows the truth (which version is bad, which job runs where,
 * what every scale set ran), so it rules on every run whatever kiln reports: the world records what
 * breaks at the moment it breaks (S1 interrupted jobs, S2 foreign writes, S3 deleted versions, S4 a
 * bad version made latest or reaching a second scale set, S5 a second build, S8 a move backwards);
 * this module adds what can only be judged from outside the world — whether what kiln reports is true
 * when it reports it, whether two runs of the same thing overlapped (S5), and what is left half-done
 * when the run ends (S9).
 */
import { versionOfImageReference } from '../../domain/rollout.js';
import type { ScaleSetRolloutResult } from '../../orchestrations/rollout-scale-set.js';
import type { RebuildOutput } from '../../orchestrations/rebuild.js';
import { Orchestrations } from '../../names.js';
import type { InstanceStatus } from '../durable/runner.js';
import type { Violation, World } from '../fake-cloud/world.js';

/** A run of an orchestration as the simulator saw it, on the virtual clock. */
export interface ObservedRun {
  name: string;
  instanceId: string;
  input: unknown;
  startedAt: number;
  endedAt?: number;
  /** What it returned, once it ended. */
  output?: unknown;
}

/**
 * S9, a report says what happened: a scale set reported `updated`, or untouched as already on the
 * version, has every instance on the version, read at the moment the result was reported.
 */
export function judgeScaleSetResult(world: World, result: ScaleSetRolloutResult): Violation[] {
  if (result.state !== 'updated' && !result.alreadyOnVersion) return [];
  const set = world.findScaleSet(result.scaleSet);
  if (!set) return [];
  const behind = [...set.instances.values()].filter(
    (i) => i.provisioningState !== 'Deleting' && versionOfImageReference(i.imageId) !== result.version,
  );
  if (behind.length === 0) return [];
  return [
    violation(
      world,
      'S9',
      result.scaleSet,
      `reported ${result.alreadyOnVersion ? 'already on' : 'updated to'} ${result.version}, but ${behind.map((i) => `${i.name} runs ${versionOfImageReference(i.imageId) ?? i.imageId}`).join(', ')}`,
    ),
  ];
}

/**
 * S9 when a rebuild ends: the Packer execution it started no longer runs, and an image reported
 * promoted is latest.
 */
export function judgeRebuildResult(world: World, output: RebuildOutput): Violation[] {
  const execution = output.executionName ? world.executions.get(output.executionName) : undefined;
  if (execution?.status === 'Running')
    return [
      violation(
        world,
        'S9',
        execution.name,
        `the ${output.image} rebuild ended ${output.state} while its Packer execution still runs`,
      ),
    ];
  if (output.state !== 'promoted') return [];
  const version = world.versions.get(world.versionKey(output.image, output.version));
  const subject = `${output.definition}/${output.version}`;
  if (!version) return [violation(world, 'S9', subject, 'reported promoted, but the version does not exist')];
  if (version.excludeFromLatest)
    return [violation(world, 'S9', subject, 'reported promoted, but the version is excluded from latest')];
  return [];
}

/** S5: no two runs of one image's rebuild, or of one version's rollout, at the same time. */
export function judgeOverlaps(world: World, runs: ObservedRun[]): Violation[] {
  const key = (run: ObservedRun): string | undefined => {
    const input = run.input as {
      image?: string;
      definition?: string;
      version?: string;
      dryRun?: boolean;
      restoreFrom?: string;
      scaleSets?: string[];
    } | null;
    if (input?.dryRun) return undefined;
    // A run that looked and decided to do nothing (a version kiln is publishing itself) ran nothing.
    if ((run.output as { state?: string } | undefined)?.state === 'skipped') return undefined;
    if (run.name === Orchestrations.rebuild && input?.image) return `rebuild of the ${input.image} image`;
    // A rebuild putting its canary back is an undo, not a second rollout of the version it restores:
    // it moves only instances on the version it undoes, which a rollout of the older version never
    // moves (S8), so the two never touch the same instance. Two undos of one canary still may not overlap.
    if (run.name === Orchestrations.rollout && input?.definition && input.restoreFrom)
      return `undo of ${input.definition} ${input.restoreFrom} on ${(input.scaleSets ?? []).map((id) => id.split('/').at(-1)).join(', ')}`;
    if (run.name === Orchestrations.rollout && input?.definition && input.version)
      return `rollout of ${input.definition} ${input.version}`;
    return undefined;
  };
  const found: Violation[] = [];
  const byKey = new Map<string, ObservedRun[]>();
  for (const run of runs) {
    const k = key(run);
    if (k) byKey.set(k, [...(byKey.get(k) ?? []), run]);
  }
  for (const [subject, list] of byKey) {
    const sorted = [...list].sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < sorted.length; i++) {
      const earlier = sorted.slice(0, i).find((r) => (r.endedAt ?? Infinity) > sorted[i]!.startedAt);
      if (earlier)
        found.push({
          invariant: 'S5',
          subject,
          detail: `${sorted[i]!.instanceId} started while ${earlier.instanceId} was still running`,
          at: new Date(sorted[i]!.startedAt).toISOString(),
        });
    }
  }
  return found;
}

/**
 * S9 at the end of the run, for what no orchestration is still working on: an agent kiln disabled
 * and never gave back, a Packer execution running without its rebuild, a model left on a version kiln
 * published but never promoted.
 */
export function judgeEnd(world: World, instances: InstanceStatus[]): Violation[] {
  const running = instances.filter((i) => i.runtimeStatus === 'Running' || i.runtimeStatus === 'Pending');
  const rollingScaleSet = (name: string) =>
    running.some(
      (i) =>
        i.name === Orchestrations.rolloutScaleSet &&
        (i.input as { scaleSet?: { name?: string } } | null)?.scaleSet?.name?.toLowerCase() ===
          name.toLowerCase(),
    );
  const rebuilding = (image: string) =>
    running.some(
      (i) => i.name === Orchestrations.rebuild && (i.input as { image?: string } | null)?.image === image,
    );
  const found: Violation[] = [];
  for (const agent of world.agents.values()) {
    if (!agent.disabledByKiln || agent.enabled) continue;
    const owner = world.instanceByComputerName(agent.name);
    if (!owner || rollingScaleSet(owner.set.name)) continue;
    found.push(
      violation(
        world,
        'S9',
        agent.name,
        `kiln disabled the agent and left it disabled (instance ${owner.inst.name})`,
      ),
    );
  }
  for (const execution of world.executions.values()) {
    if (execution.status === 'Running' && !rebuilding(execution.kind))
      found.push(
        violation(
          world,
          'S9',
          execution.name,
          `the Packer execution still runs, but no ${execution.kind} rebuild does`,
        ),
      );
  }
  // A managed image is only the way into the gallery: once its version is published it must go.
  for (const image of world.managedImages) {
    const published = [...world.versions.values()].find((v) => v.sourceId?.toLowerCase() === image);
    if (published && !rebuilding(published.kind))
      found.push(
        violation(
          world,
          'S9',
          image.split('/').pop() ?? image,
          `the managed image is still there after version ${published.name} was published from it`,
        ),
      );
  }
  for (const set of world.scaleSets.values()) {
    const version = world.versionByImageId(set.imageId);
    if (!version || !version.excludeFromLatest || !version.tags['kiln-run']) continue;
    // Someone else put the model there: not kiln's to have undone.
    if (set.lastModelChange?.by === 'outside') continue;
    if (rollingScaleSet(set.name) || rebuilding(version.kind)) continue;
    found.push(
      violation(
        world,
        'S9',
        set.name,
        `its model is left on ${version.name}, a version kiln published but never promoted (${version.tags['kiln-state'] ?? 'no state'})`,
      ),
    );
  }
  return found;
}

function violation(
  world: World,
  invariant: Violation['invariant'],
  subject: string,
  detail: string,
): Violation {
  return { invariant, subject, detail, at: world.isoNow() };
}
