/**
 * The engine of `kiln plan`: loads the app as registered into a local host on the wall clock, starts
 * a dry-run rebuild, rollout and cleanup through the app's own HTTP functions (so inputs are built
 * from settings exactly as in Azure), lets the local runner run everything that can run now, and
 * collects what each flow would do. Nothing is waited for: a dry run that waits on a durable timer
 * (a rollout waiting for replication to a scale set's region) is reported as waiting.
 *
 * A rollout runs its lead scale set first; when the lead's dry run waits for replication the
 * followers would never be planned. For those, the plan starts the same dry-run child
 * (rolloutScaleSet) directly with the input the parent gave the lead, so every scale set gets a plan.
 */
import { createListManagedScaleSetsActivity } from '../activities/inventory.js';
import type { Settings } from '../config/load-settings.js';
import { compareVersions } from '../domain/versions.js';
import { getRuntime } from '../functions/runtime.js';
import { EventType } from '../local/durable/history.js';
import type { VirtualClock } from '../local/clock.js';
import { LocalAppHost } from '../local/host/app-host.js';
import { Orchestrations } from '../names.js';
import { KILN_STATE_TAG, type ImageKind } from '../domain/release.js';
import type { ScaleSetRolloutInput, ScaleSetRolloutResult } from '../orchestrations/rollout-scale-set.js';
import { WallClock } from './plan-settings.js';
import { storedOutput } from '../orchestration-contracts.js';

export interface PlanRequest {
  settings: Settings;
  images: ImageKind[];
  /** Roll this version (with exactly one image); default: each image's newest promoted version. */
  version?: string;
  /** The time the plan is made at; default the wall clock. It is never advanced: nothing waits. */
  clock?: VirtualClock;
  log?: (level: string, source: string, message: string) => void;
}

export interface RebuildPlan {
  image: ImageKind;
  definition: string;
  state: string;
  nextVersion?: string;
  canary?: string;
  rollOut: string[];
  prune: string[];
  regions: string[];
  reason?: string;
}

export interface ScaleSetPlan {
  scaleSet: string;
  region: string;
  /** planned | refused | untouched | failed | waiting (on a durable timer: replication) */
  state: string;
  currentVersion?: string;
  plannedWaves?: number;
  busyNow?: number;
  reason?: string;
}

export interface RolloutPlan {
  image: ImageKind;
  definition: string;
  version?: string;
  /** How the version was chosen. */
  versionFrom: 'argument' | 'newest promoted' | 'none';
  state: string;
  reason?: string;
  scaleSets: ScaleSetPlan[];
}

export interface CleanupPlan {
  state: string;
  remove: { fleet: string; name: string; scaleSet: string; reason: string }[];
  reimage: { scaleSet: string; instanceId: string; computerName: string }[];
  /** Instances of recycle scale sets whose one job is done. */
  recycle: { fleet: string; scaleSet: string; instanceId: string; computerName: string }[];
  keptBusy: string[];
  kept: number;
  foreign: { fleet: string; name: string }[];
  errors: string[];
}

export interface Plan {
  at: string;
  dryRun: true;
  rebuild: RebuildPlan[];
  rollout: RolloutPlan[];
  cleanup: CleanupPlan;
  /** What kept the plan from being complete: failed reads, failed runs, refused requests. */
  errors: string[];
}

export async function makePlan(request: PlanRequest): Promise<Plan> {
  const { settings } = request;
  const clock = request.clock ?? new WallClock();
  const at = clock.now().toISOString();
  const errors: string[] = [];
  const host = await LocalAppHost.start({ clock, log: request.log });
  try {
    const post = async (path: string, body: unknown) => {
      const response = await host.invokeHttp({
        method: 'POST',
        path,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey },
      });
      const json = safeJson(response.body) as { error?: string; id?: string; runs?: { id: string }[] };
      if (response.status !== 202)
        errors.push(`POST ${path} answered ${response.status}: ${json?.error ?? ''}`);
      return response.status === 202 ? json : undefined;
    };

    const rebuildIds = new Map<ImageKind, string>();
    const rebuildStarted = await post('/api/rebuilds', { images: request.images, dryRun: true });
    request.images.forEach((image, i) => {
      const id = rebuildStarted?.runs?.[i]?.id;
      if (id) rebuildIds.set(image, id);
    });

    const cleanupStarted = await post('/api/cleanups', { dryRun: true });

    const rollouts: {
      image: ImageKind;
      version?: string;
      from: RolloutPlan['versionFrom'];
      id?: string;
      reason?: string;
    }[] = [];
    for (const image of request.images) {
      let version = request.version;
      let from: RolloutPlan['versionFrom'] = 'argument';
      if (!version) {
        const newest = await newestPromoted(settings, image);
        if (!newest.ok) {
          errors.push(`rollout ${image}: ${newest.reason}`);
          rollouts.push({ image, from: 'none', reason: newest.reason });
          continue;
        }
        if (!newest.version) {
          rollouts.push({
            image,
            from: 'none',
            reason: `no promoted version of ${settings.gallery.definitions[image]}`,
          });
          continue;
        }
        version = newest.version;
        from = 'newest promoted';
      }
      const started = await post('/api/rollouts', { image, version, dryRun: true });
      rollouts.push({ image, version, from, id: started?.id });
    }

    await host.runner.runUntilQuiet();
    await planQueuedScaleSets(
      host,
      rollouts.flatMap((r) => (r.id ? [r.id] : [])),
    );
    await host.runner.runUntilQuiet();

    const runner = host.runner;
    const failedRun = (id: string) => {
      const status = runner.getStatus(id);
      return status?.runtimeStatus === 'Failed' ? String(status.output) : undefined;
    };
    // A run still going after the runner went quiet waits on a timer: a retry after a failed read
    // (the plan names that read's error) or, for a rollout, replication.
    const stuck = (id: string, customStatus: unknown) => {
      const error = lastActivityError(host, id);
      return error
        ? `would retry after: ${error}`
        : `waiting on a timer (${describeStatus(customStatus)}); the plan does not wait`;
    };

    const rebuild: RebuildPlan[] = request.images.map((image) => {
      const definition = settings.gallery.definitions[image];
      const id = rebuildIds.get(image);
      const status = id ? runner.getStatus(id) : undefined;
      if (!status) return { image, definition, state: 'not started', rollOut: [], prune: [], regions: [] };
      if (status.runtimeStatus !== 'Completed') {
        const reason =
          failedRun(status.instanceId) ??
          `still ${status.runtimeStatus}: ${describeStatus(status.customStatus)}`;
        errors.push(`rebuild ${image}: ${reason}`);
        return {
          image,
          definition,
          state: status.runtimeStatus.toLowerCase(),
          rollOut: [],
          prune: [],
          regions: [],
          reason,
        };
      }
      const out = storedOutput(Orchestrations.rebuild, status)!;
      if (out.state !== 'planned' && out.reason) errors.push(`rebuild ${image}: ${out.reason}`);
      return {
        image,
        definition,
        state: out.state,
        nextVersion: out.version || undefined,
        canary: out.plan?.canary ?? out.canary,
        rollOut: out.plan?.rollOut ?? [],
        prune: out.plan?.prune ?? [],
        regions: out.regions,
        ...(out.reason ? { reason: out.reason } : {}),
      };
    });

    const rollout: RolloutPlan[] = rollouts.map((r) => {
      const definition = settings.gallery.definitions[r.image];
      const base = { image: r.image, definition, version: r.version, versionFrom: r.from };
      if (!r.id)
        return {
          ...base,
          state: r.version ? 'not started' : 'nothing to roll',
          reason: r.reason,
          scaleSets: [],
        };
      const status = runner.getStatus(r.id);
      if (status?.runtimeStatus === 'Completed') {
        const out = storedOutput(Orchestrations.rollout, status)!;
        if (out.state === 'failed') errors.push(`rollout ${r.image} ${r.version}: ${out.reason ?? 'failed'}`);
        return {
          ...base,
          state: out.state,
          ...(out.reason ? { reason: out.reason } : {}),
          scaleSets: Object.values(out.scaleSets).map(toScaleSetPlan),
        };
      }
      if (status?.runtimeStatus === 'Failed' || !status) {
        const reason = status ? String(status.output) : 'the rollout did not start';
        errors.push(`rollout ${r.image} ${r.version}: ${reason}`);
        return { ...base, state: 'failed', reason, scaleSets: [] };
      }
      return {
        ...base,
        state: 'waiting',
        reason: 'a scale set waits for replication',
        scaleSets: scaleSetsOf(host, r.id),
      };
    });

    let cleanup: CleanupPlan = {
      state: 'not started',
      remove: [],
      reimage: [],
      recycle: [],
      keptBusy: [],
      kept: 0,
      foreign: [],
      errors: [],
    };
    const cleanupStatus = cleanupStarted?.id ? runner.getStatus(cleanupStarted.id) : undefined;
    if (cleanupStatus?.runtimeStatus === 'Completed') {
      const out = storedOutput(Orchestrations.cleanup, cleanupStatus)!;
      cleanup = {
        state: out.errors.length > 0 ? 'incomplete' : 'planned',
        remove: out.planned.remove,
        reimage: out.planned.reimage,
        recycle: out.planned.recycle,
        keptBusy: out.kept.filter((k) => k.reason === 'busy').map((k) => k.name),
        kept: out.kept.length,
        foreign: out.foreign,
        errors: out.errors,
      };
      errors.push(...out.errors.map((e) => `cleanup: ${e}`));
    } else if (cleanupStatus) {
      const reason =
        failedRun(cleanupStatus.instanceId) ?? stuck(cleanupStatus.instanceId, cleanupStatus.customStatus);
      cleanup.state = cleanupStatus.runtimeStatus.toLowerCase();
      cleanup.errors.push(reason);
      errors.push(`cleanup: ${reason}`);
    }
    return { at, dryRun: true, rebuild, rollout, cleanup, errors };
  } finally {
    await host.close();
  }
}

/** The newest version of the image that is promoted: in latest, provisioned, and not kiln's work in progress. */
async function newestPromoted(
  settings: Settings,
  image: ImageKind,
): Promise<{ ok: true; version?: string } | { ok: false; reason: string }> {
  if (!settings.gallery.name || !settings.gallery.resourceGroup)
    return {
      ok: false,
      reason: 'GALLERY_NAME and GALLERY_RESOURCE_GROUP must be set to find the newest promoted version',
    };
  try {
    const versions = await getRuntime().arm.listImageVersions(settings.gallery.definitions[image]);
    const promoted = versions
      .filter(
        (v) =>
          !v.excludeFromLatest &&
          v.provisioningState !== 'Failed' &&
          (v.tags[KILN_STATE_TAG] === undefined || v.tags[KILN_STATE_TAG] === 'promoted'),
      )
      .map((v) => v.name)
      .sort(compareVersions);
    return { ok: true, version: promoted.at(-1) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/**
 * For every rollout still running (its lead waits on a timer), starts the dry-run child of each
 * scale set that is still queued, with the lead's input and that scale set: the same plan the parent
 * would ask for once the lead is done.
 */
async function planQueuedScaleSets(host: LocalAppHost, rolloutIds: string[]): Promise<void> {
  const runner = host.runner;
  let managed: Awaited<ReturnType<ReturnType<typeof createListManagedScaleSetsActivity>>> | undefined;
  for (const id of rolloutIds) {
    const status = runner.getStatus(id);
    if (status?.runtimeStatus !== 'Running') continue;
    const children = runner.listInstances().filter((i) => i.parentInstanceId === id);
    const template = children[0]?.input as ScaleSetRolloutInput | undefined;
    const queued = queuedNames(status.customStatus).filter((name) => !runner.getStatus(`${id}:${name}`));
    if (!template || queued.length === 0) continue;
    managed ??= await createListManagedScaleSetsActivity(getRuntime())();
    if (!managed.ok) continue;
    for (const name of queued) {
      const scaleSet = managed.value.find((s) => s.name === name);
      if (!scaleSet) continue;
      runner.startNew(Orchestrations.rolloutScaleSet, {
        instanceId: `${id}:${name}`,
        input: { ...template, scaleSet, progress: undefined } satisfies ScaleSetRolloutInput,
      });
    }
  }
}

function queuedNames(customStatus: unknown): string[] {
  const sets = (customStatus as { scaleSets?: Record<string, { state?: string }> } | null)?.scaleSets ?? {};
  return Object.entries(sets)
    .filter(([, s]) => s?.state === 'queued')
    .map(([name]) => name);
}

/** Scale set plans of a rollout that has not finished: finished children, and the ones that wait. */
function scaleSetsOf(host: LocalAppHost, rolloutId: string): ScaleSetPlan[] {
  const runner = host.runner;
  const parent = runner.getStatus(rolloutId);
  const names = Object.keys(
    (parent?.customStatus as { scaleSets?: Record<string, unknown> } | null)?.scaleSets ?? {},
  );
  return names.map((name) => {
    const child = runner.getStatus(`${rolloutId}:${name}`);
    const input = child?.input as ScaleSetRolloutInput | undefined;
    if (child?.runtimeStatus === 'Completed') return toScaleSetPlan(child.output as ScaleSetRolloutResult);
    const phase = (child?.customStatus as { phase?: string } | null)?.phase;
    return {
      scaleSet: name,
      region: input?.scaleSet.location ?? '',
      state: child?.runtimeStatus === 'Failed' ? 'failed' : 'waiting',
      reason:
        child?.runtimeStatus === 'Failed'
          ? String(child.output)
          : `${phase ?? 'queued'}: the rollout would wait here (the plan does not)`,
    };
  });
}

function toScaleSetPlan(r: ScaleSetRolloutResult): ScaleSetPlan {
  return {
    scaleSet: r.scaleSet,
    region: r.region,
    state: r.state,
    ...(r.previousVersion ? { currentVersion: r.previousVersion } : {}),
    ...(r.plannedWaves !== undefined ? { plannedWaves: r.plannedWaves } : {}),
    ...(r.busyNow !== undefined ? { busyNow: r.busyNow } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/** The error of the last activity of the instance that returned a failed result, if any. */
function lastActivityError(host: LocalAppHost, instanceId: string): string | undefined {
  let message: string | undefined;
  for (const e of host.runner.getHistory(instanceId)) {
    if (e.EventType !== EventType.TaskCompleted) continue;
    const result = safeJson(String((e as { Result?: unknown }).Result ?? '')) as {
      ok?: boolean;
      error?: { message?: string };
    } | null;
    if (result && result.ok === false) message = result.error?.message;
  }
  return message;
}

function describeStatus(customStatus: unknown): string {
  if (customStatus === null || customStatus === undefined) return 'no status';
  const phase = (customStatus as { phase?: string }).phase;
  return phase ?? JSON.stringify(customStatus);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
