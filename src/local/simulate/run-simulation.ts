/**
 * `kiln simulate`: runs the app as registered (local host + local durable runner) against the fake
 * cloud built from a scenario, on a virtual clock, and reports what happened. The app's clients
 * reach the fakes only through settings (endpoints, managed identity endpoint) — the same ones that
 * serve sovereign clouds and GitHub Enterprise Server.
 */
import { ManagedIdentityApplication } from '@azure/msal-node';
import { VirtualClock } from '../clock.js';
import {
  startFakeCloud,
  type FakeCloud,
  type FakeCloudSecrets,
  type RolesOption,
} from '../fake-cloud/index.js';
import { LocalAppHost } from '../host/app-host.js';
import type { ImageKind, Scenario, TriggerName } from '../scenario/types.js';
import { nextOccurrence, parseNcrontab } from '../../domain/ncrontab.js';
import { sortVersions } from '../../domain/versions.js';
import { SettingsError, type Settings } from '../../config/load-settings.js';
import { getSettings, resetRuntime, shutdownRuntime } from '../../functions/runtime.js';
import { Orchestrations } from '../../names.js';
import type { CleanupOutput } from '../../orchestrations/cleanup.js';
import type { SoftwareChange } from '../../domain/software-report.js';
import type { RebuildOutput } from '../../orchestrations/rebuild.js';
import type { RolloutOutput } from '../../orchestrations/rollout.js';
import type { Violation } from '../fake-cloud/world.js';
import { criticalPath, type CriticalPath, type ImageBound } from './critical-path.js';
import { FleetUpdateWatch } from './fleet-updated.js';
import { deliveryPlan, publishOutsideKiln, versionWrittenEvent } from './gallery-events.js';
import {
  judgeEnd,
  judgeOverlaps,
  judgeRebuildResult,
  judgeScaleSetResult,
  type ObservedRun,
} from './invariants.js';
import {
  addBrokerRemovals,
  addCleanupRemovals,
  addDrainRemovals,
  noRemovals,
  type RegistrationsRemoved,
} from './removals.js';
import type { ReportEvent, SimulationReport } from './report.js';
import { settingsUsed, type SettingUsed } from './settings-used.js';
import { SimulatedVmRegistrations, type RegistrationCounts } from './vm-registrations.js';
import { startWebhookDeliveries } from './webhook-deliveries.js';
import { oneJobAtStart, servingAtStart, workloadReport, type WorkloadReport } from './workload-report.js';
import { storedOutput } from '../../orchestration-contracts.js';

export interface SimulationOptions {
  /** Overrides the scenario's `trigger` list. */
  triggers?: TriggerName[];
  /** Overrides the scenario's `dryRun`. */
  dryRun?: boolean;
  /** Overrides the scenario's `timers`: whether the app's timers fire on the virtual clock, or which ones (function names). */
  timers?: boolean | string[];
  /** Progress and logs (stderr in the CLI). */
  log?: (line: string) => void;
  /** Keep the fake cloud and host running after the run (kiln serve); the caller closes them. */
  keepRunning?: boolean;
  /** Changes the fake world before the app starts (tests: a crashed runner service, a stopped VM). */
  onStart?: (cloud: FakeCloud) => void;
  /** App settings on top of the fake cloud's and the scenario's (e.g. BUILD_TIMEOUT_HOURS). */
  settings?: Record<string, string>;
  /** Secret values the fake vault holds (tests: sentinels for the secret-leak check); generated when absent. */
  secrets?: FakeCloudSecrets;
  /** Role assignments in force: kiln's compiled Bicep (default), another compiled template, or 'all'. */
  roles?: RolesOption;
}

export interface SimulationResult {
  report: SimulationReport;
  cloud: FakeCloud;
  host: LocalAppHost;
  close: () => Promise<void>;
}

/**
 * Settings kiln simulate sets itself: GitHub's rate limits are enforced by the fake on the virtual
 * clock, so spacing writes, or backing off between a client's own retries, in real time would only
 * cost wall time. The environment's values give way; the scenario's win.
 */
const SIMULATOR_SETTINGS: Record<string, string> = {
  GITHUB_WRITE_INTERVAL_MS: '0',
  CLIENT_RETRY_BASE_MS: '0',
};

/** Trigger names whose flows exist today. */
const AVAILABLE_TRIGGERS: TriggerName[] = ['cleanup', 'eventgrid', 'http-rollout', 'http-rebuild'];
const EVENT_GRID_FUNCTION = 'galleryVersionEvents';

/**
 * The roles of a deployment made for these app settings: the Bicep grants the orchestrator the
 * secrets of the GitHub and Azure DevOps authentication it is configured with.
 */
function deploymentRoles(roles: RolesOption, settings: Record<string, string>): RolesOption {
  if (roles === 'all') return roles;
  const github = settings.GITHUB_AUTH === 'pat' ? 'pat' : undefined;
  const ado = settings.ADO_AUTH === 'entra' ? 'entra' : undefined;
  if (!github && !ado) return roles;
  const option = roles === 'project' ? {} : roles;
  return { ...option, auth: { ...option.auth, ...(github ? { github } : {}), ...(ado ? { ado } : {}) } };
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

export async function runSimulation(
  scenario: Scenario,
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const log = options.log ?? (() => undefined);
  const triggers = options.triggers ?? scenario.trigger;
  const dryRun = options.dryRun ?? scenario.dryRun;
  checkTriggers(scenario, triggers);

  forgetManagedIdentityTokens();
  const clock = new VirtualClock(scenario.start);
  const untilMs = Date.parse(scenario.until);
  const cloud = await startFakeCloud({
    scenario,
    clock,
    secrets: options.secrets,
    roles: deploymentRoles(options.roles ?? 'project', { ...scenario.settings, ...options.settings }),
  });
  options.onStart?.(cloud);
  // What serves each workload stream before anything runs: the oracle's plan scales those.
  const serving = servingAtStart(scenario, cloud.world);
  const oneJob = oneJobAtStart(cloud.world);
  const previousEnv = { ...process.env };
  // The scenario's settings override the environment's; the caller's (options.settings) override both.
  applyEnvironment({
    ...SIMULATOR_SETTINGS,
    ...cloud.env,
    ...scenario.settings,
    ...options.settings,
    DRY_RUN: String(dryRun),
  });
  resetRuntime();
  const settings = await settingsOrStop(async () => {
    await cloud.close();
    restoreEnvironment(previousEnv);
    resetRuntime();
  });
  // S3 is judged against the policy kiln runs with.
  cloud.world.pruneKeep = settings.rebuild.pruneKeep;
  const used = settingsUsed(process.env, [
    ['simulator', options.settings ?? {}],
    ['scenario', scenario.settings],
    ['simulator', SIMULATOR_SETTINGS],
  ]);

  // One timeline in the order things happened: the cloud's own events are merged in before each of ours.
  const timeline: ReportEvent[] = [];
  let ledgerSeen = 0;
  const syncLedger = () => {
    for (const e of cloud.ledger.events.slice(ledgerSeen))
      timeline.push({ at: new Date(e.at).toISOString(), flow: e.service, message: e.message });
    ledgerSeen = cloud.ledger.events.length;
  };
  const event = (flow: string, message: string) => {
    syncLedger();
    timeline.push({ at: clock.now().toISOString(), flow, message });
    log(`${clock.now().toISOString()} ${flow}: ${message}`);
  };
  const removed = noRemovals();
  const host = await LocalAppHost.start({
    clock,
    log: (level, source, message) => {
      addBrokerRemovals(removed, message);
      log(`  [${level}] ${source}: ${message}`);
    },
    // The same scenario, the same run: activities reach the fake cloud in one order every time.
    serialActivities: true,
    random: cloud.world.randomStream('host'),
  });
  const http = (path: string, body: unknown) =>
    host.invokeHttp({
      method: 'POST',
      path,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey },
    });

  const pending: (() => Promise<void>)[] = [];
  // Instances of broker-mode scale sets ask the app for their registration as they boot.
  const vmRegistrations = new SimulatedVmRegistrations({
    cloud,
    host,
    clock,
    enqueue: (work) => host.runner.enqueueWorldWork(work),
    event,
  });
  cloud.world.brokeredBoot = vmRegistrations.boot;
  // GitHub's workflow_job webhooks to the app, with a workload that asks for them (webhook-deliveries.ts).
  if (scenario.workload?.webhooks)
    startWebhookDeliveries({
      cloud,
      lose: scenario.workload.webhooks.lose,
      deliver: (path, headers, body) => host.invokeHttp({ method: 'POST', path, headers, body }),
      enqueue: (work) => host.runner.enqueueWorldWork(work),
      event,
    });
  const deliver = async (image: ImageKind, version: string, note = '') => {
    event('eventgrid', `delivered ResourceWriteSuccess for ${image} ${version}${note}`);
    await host.deliverEvent(EVENT_GRID_FUNCTION, versionWrittenEvent(cloud, image, version, clock.now()));
  };
  // The scenario's outside changes, at their minutes; those at minute 0 before any trigger fires.
  for (const change of scenario.changes) {
    const apply = async () => {
      if (change.action === 'event') await deliver(change.image, change.version);
      else {
        cloud.world.applyChange(change);
        event('sim', `outside change: ${describeChange(change)}`);
      }
    };
    if (change.atMinutes === 0) pending.push(apply);
    else
      clock.schedule(
        Date.parse(scenario.start) + change.atMinutes * 60_000,
        () => pending.push(apply),
        `change ${change.action}`,
      );
  }
  const startCleanup = async (via: string) => {
    const response = await http('/api/cleanups', { dryRun });
    if (response.status === 202) event('cleanup', `started by ${via}${dryRun ? ' (dry run)' : ''}`);
    else if (response.status === 409) event('cleanup', `not started by ${via}: a cleanup is already running`);
    else throw new SimulationError(`POST /api/cleanups answered ${response.status}: ${response.body}`);
  };

  const timers = options.timers ?? scenario.timers;
  if (timers)
    scheduleTimers(
      host,
      clock,
      untilMs,
      (name) => pending.push(() => host.fireTimer(name)),
      Array.isArray(timers) ? timers : defaultTimers(host, scenario),
    );
  for (const trigger of triggers) {
    if (trigger === 'cleanup') pending.push(() => startCleanup('http'));
    if (trigger === 'http-rebuild') {
      pending.push(async () => {
        const response = await http('/api/rebuilds', { dryRun });
        event(
          'rebuild',
          `POST /api/rebuilds${dryRun ? ' (dry run)' : ''}: ${response.status}${response.status >= 300 ? ` ${response.body}` : ''}`,
        );
      });
    }
    if (trigger === 'http-rollout') {
      for (const { image, version } of rolloutTargets(scenario)) {
        pending.push(async () => {
          publishOutsideKiln(cloud, scenario, image, version);
          const response = await http('/api/rollouts', { image, version, dryRun });
          event(
            'rollout',
            `POST /api/rollouts ${image} ${version}${dryRun ? ' (dry run)' : ''}: ${response.status}${response.status >= 300 ? ` ${response.body}` : ''}`,
          );
        });
      }
    }
    if (trigger === 'eventgrid') {
      const { version: written, duplicates, lateOlderEvent } = scenario.eventgrid!;
      const { image, version } = written;
      pending.push(async () => {
        publishOutsideKiln(cloud, scenario, image, version);
        event('eventgrid', `${image} ${version} written to the gallery outside kiln`);
        for (const delivery of deliveryPlan(image, version, duplicates, lateOlderEvent)) {
          const note = delivery.late
            ? ` (late, for a version older than ${version})`
            : delivery.duplicate
              ? ` (duplicate ${delivery.duplicate})`
              : '';
          clock.schedule(clock.nowMs() + delivery.afterMinutes * 60_000, () =>
            pending.push(() => deliver(delivery.image, delivery.version, note)),
          );
        }
      });
    }
  }

  // A rebuild PROMOTION_GATE holds is answered as the scenario says, through the app's own endpoint.
  const answerHeldRebuild = (instanceId: string, held: HeldRebuild) => {
    event(
      'rebuild',
      `${instanceId} ${held.version} awaiting approval until ${held.deadline}: ${held.reasons.join('; ')}`,
    );
    const answer = scenario.images[held.image].approval;
    if (!answer) return;
    clock.schedule(clock.nowMs() + answer.afterMinutes * 60_000, () =>
      pending.push(async () => {
        const response = await http(`/api/rebuilds/${instanceId}/${answer.decision}`, {
          by: 'scenario',
          ...(answer.reason ? { reason: answer.reason } : {}),
        });
        event(
          'rebuild',
          `POST /api/rebuilds/${instanceId}/${answer.decision}: ${response.status}${response.status >= 300 ? ` ${response.body}` : ''}`,
        );
      }),
    );
  };

  const started = Date.now();
  const hygiene: SimulationReport['hygiene'] = {
    runs: 0,
    decisions: { removeRunners: [], removeAgents: [], reimage: [], recycle: [], keptBusy: [], foreign: [] },
    errors: [],
  };
  const seen = new Set<string>();
  const rollouts = new Map<string, RolloutOutput>();
  const rebuilds = new Map<string, RebuildOutput>();
  const runs = new Map<string, ObservedRun>();
  const violations: Violation[] = [];
  const judged = (found: Violation[]) => {
    for (const v of found) {
      violations.push(v);
      event('invariant', `VIOLATION ${v.invariant} ${v.subject}: ${v.detail}`);
    }
  };
  const collect = () => {
    for (const status of host.runner.listInstances()) {
      const key = `${status.instanceId}@${status.createdTime}`;
      const run = runs.get(key) ?? {
        name: status.name,
        instanceId: status.instanceId,
        input: status.input,
        startedAt: clock.nowMs(),
      };
      runs.set(key, run);
      if (status.runtimeStatus !== 'Running' && status.runtimeStatus !== 'Pending') {
        run.endedAt ??= clock.nowMs();
        run.output = status.output;
      }
      if (status.runtimeStatus === 'Running' || status.runtimeStatus === 'Pending') {
        if (!seen.has(`${key}:started`)) {
          const input = status.input as { image?: ImageKind } | null;
          if (status.name === Orchestrations.rollout) event('rollout', `${status.instanceId} started`);
          if (status.name === Orchestrations.rebuild && input?.image)
            event('rebuild', `${status.instanceId} started`);
        }
        seen.add(`${key}:started`);
        if (status.name === Orchestrations.rebuild && !seen.has(`${key}:held`)) {
          const held = heldForApproval(status);
          if (held) {
            seen.add(`${key}:held`);
            answerHeldRebuild(status.instanceId, held);
          }
        }
        continue;
      }
      if (seen.has(key)) continue;
      seen.add(key);
      addDrainRemovals(removed, status);
      if (status.runtimeStatus !== 'Completed') {
        event(flowOf(status.name), `${status.instanceId} ${status.runtimeStatus}: ${String(status.output)}`);
        continue;
      }
      const cleanup = storedOutput(Orchestrations.cleanup, status);
      if (cleanup) {
        hygiene.runs++;
        mergeCleanup(hygiene, cleanup);
        addCleanupRemovals(removed, cleanup);
        const acted =
          cleanup.removed.length +
          cleanup.reimaged.length +
          cleanup.recycled.length +
          cleanup.planned.remove.length +
          cleanup.planned.reimage.length +
          cleanup.planned.recycle.length;
        if (acted > 0 || cleanup.errors.length > 0 || hygiene.runs === 1)
          event('cleanup', describeCleanup(cleanup));
      }
      const scaleSetResult = storedOutput(Orchestrations.rolloutScaleSet, status);
      if (scaleSetResult) judged(judgeScaleSetResult(cloud.world, scaleSetResult));
      const rollout = storedOutput(Orchestrations.rollout, status);
      if (rollout) {
        rollouts.set(status.instanceId, rollout);
        event('rollout', describeRollout(rollout));
      }
      const rebuild = storedOutput(Orchestrations.rebuild, status);
      if (rebuild) {
        rebuilds.set(status.instanceId, rebuild);
        event('rebuild', describeRebuild(rebuild));
        judged(judgeRebuildResult(cloud.world, rebuild));
      }
    }
  };

  const fleetWatch = new FleetUpdateWatch(cloud.world);
  for (;;) {
    while (pending.length > 0) await pending.shift()!();
    await host.runner.runUntilQuiet();
    collect();
    fleetWatch.look(clock.nowMs());
    if (pending.length > 0) continue;
    const next = clock.nextAt();
    if (next === undefined || next > untilMs) break;
    clock.advanceTo(next);
    clock.runDue();
  }
  // The scenario's work ends when its last rebuild or rollout does; the recurring cleanup and runner
  // watch count only in a run that has nothing else.
  const flows = host.runner.listInstances();
  const recurring = new Set<string>([
    Orchestrations.cleanup,
    Orchestrations.runnerReleaseWatch,
    Orchestrations.autoscale,
  ]);
  const work = flows.some((s) => !recurring.has(s.name))
    ? flows.filter((s) => !recurring.has(s.name))
    : flows;
  const lastWorkAt = Math.max(Date.parse(scenario.start), ...work.map((s) => Date.parse(s.lastUpdatedTime)));
  log(`simulation finished in ${((Date.now() - started) / 1000).toFixed(1)} s of wall time`);
  judged([...judgeOverlaps(cloud.world, [...runs.values()]), ...judgeEnd(cloud.world, flows)]);
  syncLedger();
  // Rollouts the clock stopped in the middle of say what they removed so far.
  for (const status of flows)
    if (status.runtimeStatus === 'Running' || status.runtimeStatus === 'Pending')
      addDrainRemovals(removed, status);

  const report = buildReport({
    scenario,
    dryRun,
    cloud,
    host,
    hygiene,
    removed,
    settings: used,
    rollouts: [...rollouts.values()],
    rebuilds: [...rebuilds.values()],
    violations: [...cloud.ledger.violations, ...violations].sort((a, b) => a.at.localeCompare(b.at)),
    events: timeline,
    registrations: vmRegistrations.counts,
    virtualMinutes: Math.round((lastWorkAt - Date.parse(scenario.start)) / 60_000),
    criticalPath: boundOfRun(scenario, cloud, [...runs.values()], rebuilds, rollouts),
    fleetUpdatedAt: (image, version) => fleetWatch.at(image, version),
    workload: workloadReport(scenario, cloud.world, serving, oneJob),
  });
  const close = async () => {
    await host.close();
    await cloud.close();
    restoreEnvironment(previousEnv);
    // The run's metrics are exported before the next run's settings take over.
    await shutdownRuntime();
  };
  if (!options.keepRunning) await close();
  return { report, cloud, host, close };
}

/**
 * How long a promoted version took to reach the whole fleet, and the least it could have taken: when
 * the last managed instance of the image ran it, and the minutes from the end of its build.
 */
function timeToFleet(
  scenario: Scenario,
  rebuild: RebuildOutput,
  fleetUpdatedAt: (image: ImageKind, version: string) => number | undefined,
  bound: ImageBound | undefined,
): Pick<SimulationReport['images'][string], 'fleetUpdatedAt' | 'minutesToFleetUpdated' | 'lowerBound'> {
  if (rebuild.state !== 'promoted' || !rebuild.timings.builtAt) return {};
  const at = fleetUpdatedAt(rebuild.image, rebuild.version);
  const iso = (minutes: number) => new Date(Date.parse(scenario.start) + minutes * 60_000).toISOString();
  return {
    ...(at !== undefined
      ? {
          fleetUpdatedAt: new Date(at).toISOString(),
          minutesToFleetUpdated: Math.round((at - Date.parse(rebuild.timings.builtAt)) / 60_000),
        }
      : {}),
    ...(bound?.fleetUpdatedMinutes !== undefined && bound.minutesToFleetUpdated !== undefined
      ? {
          lowerBound: {
            fleetUpdatedAt: iso(bound.fleetUpdatedMinutes),
            minutesToFleetUpdated: Math.round(bound.minutesToFleetUpdated),
          },
        }
      : {}),
  };
}

/**
 * The critical path of what the run did (src/local/simulate/critical-path.ts): its rebuilds with their
 * canaries, the other rollouts, and the jobs that ran to their end.
 */
function boundOfRun(
  scenario: Scenario,
  cloud: FakeCloud,
  observed: ObservedRun[],
  rebuilds: Map<string, RebuildOutput>,
  rollouts: Map<string, RolloutOutput>,
): CriticalPath {
  const minutes = (ms: number) => (ms - Date.parse(scenario.start)) / 60_000;
  return criticalPath({
    scenario,
    rebuilds: observed
      .filter((r) => r.name === Orchestrations.rebuild)
      .flatMap((r) => {
        const image = (r.input as { image?: ImageKind } | null)?.image;
        if (!image) return [];
        const output = rebuilds.get(r.instanceId);
        const canary = rollouts.get(`${r.instanceId}:canary`);
        return [
          { image, at: minutes(r.startedAt), ...(output ? { output } : {}), ...(canary ? { canary } : {}) },
        ];
      }),
    rollouts: observed
      .filter((r) => r.name === Orchestrations.rollout)
      .filter((r) => (r.input as { source?: string } | null)?.source !== 'rebuild')
      .map((r) => {
        const output = rollouts.get(r.instanceId);
        return { at: minutes(r.startedAt), ...(output ? { output } : {}) };
      }),
    jobs: cloud.world.jobs.flatMap((j) =>
      j.state === 'done' && j.startedAt !== undefined && j.endsAt !== undefined
        ? [{ instance: j.instance, startedAt: minutes(j.startedAt), endedAt: minutes(j.endsAt) }]
        : [],
    ),
    canarySoakMinutes: Number(cloud.env.CANARY_SOAK_MINUTES ?? 30),
    regionOrder: scenario.gallery.regions,
  });
}

/**
 * The settings the app will run with, loaded before anything runs: bad ones stop the simulation with
 * every problem named (the app would otherwise fail each call on its own), after `stop` undid the
 * start.
 */
async function settingsOrStop(stop: () => Promise<void>): Promise<Settings> {
  try {
    return getSettings();
  } catch (error) {
    await stop();
    if (!(error instanceof SettingsError)) throw error;
    throw new SimulationError(
      `${error.message}\nThe fake cloud sets the endpoints, identities and names; the rest come from ` +
        'the environment kiln runs in: fix or unset these there.',
    );
  }
}

function checkTriggers(scenario: Scenario, triggers: TriggerName[]): void {
  const unavailable = triggers.filter((t) => !AVAILABLE_TRIGGERS.includes(t));
  if (unavailable.length > 0) {
    throw new SimulationError(
      `trigger ${unavailable.map((t) => `"${t}"`).join(', ')} is not available yet (available: ${AVAILABLE_TRIGGERS.join(', ')})`,
    );
  }
  if (triggers.includes('eventgrid') && !scenario.eventgrid) {
    throw new SimulationError(
      'trigger "eventgrid" needs the scenario\'s eventgrid block (the version written outside kiln)',
    );
  }
}

/** http-rollout rolls the scenario's eventgrid version, or else each image to its newest existing version. */
function rolloutTargets(scenario: Scenario): { image: ImageKind; version: string }[] {
  if (scenario.eventgrid) return [scenario.eventgrid.version];
  return (['linux', 'windows'] as ImageKind[])
    .filter((image) => scenario.scaleSets.some((s) => s.image === image && s.managed))
    .map((image) => ({ image, version: sortVersions(scenario.gallery.existingVersions[image]).at(-1)! }));
}

function scheduleTimers(
  host: LocalAppHost,
  clock: VirtualClock,
  untilMs: number,
  fire: (name: string) => void,
  only?: string[],
): void {
  for (const timer of host.timerFunctions().filter((t) => !only || only.includes(t.name))) {
    const schedule = parseNcrontab(timer.schedule);
    const arm = (after: number) => {
      const at = nextOccurrence(schedule, after);
      if (at === undefined || at > untilMs) return;
      clock.schedule(
        at,
        () => {
          fire(timer.name);
          arm(at);
        },
        `timer ${timer.name}`,
      );
    };
    arm(clock.nowMs() - 1);
  }
}

/**
 * The app's timers a scenario's `timers: true` fires: all of them, except the autoscaler's in a
 * scenario with no autoscaled scale set (it would look every minute at nothing to scale).
 */
function defaultTimers(host: LocalAppHost, scenario: Scenario): string[] {
  const autoscaled = scenario.scaleSets.some((s) => s.autoscale !== undefined);
  return host
    .timerFunctions()
    .map((t) => t.name)
    .filter((name) => autoscaled || name !== 'autoscaleTimer');
}

function flowOf(orchestration: string): string {
  if (orchestration === Orchestrations.cleanup) return 'cleanup';
  if (orchestration === Orchestrations.autoscale) return 'autoscale';
  if (orchestration === Orchestrations.rollout || orchestration === Orchestrations.rolloutScaleSet)
    return 'rollout';
  return 'rebuild';
}

function mergeCleanup(hygiene: SimulationReport['hygiene'], output: CleanupOutput): void {
  const add = (list: string[], names: string[]) => {
    for (const name of names) if (!list.includes(name)) list.push(name);
  };
  const d = hygiene.decisions;
  add(
    d.removeRunners,
    output.planned.remove.filter((r) => r.fleet === 'github').map((r) => r.name),
  );
  add(
    d.removeAgents,
    output.planned.remove.filter((r) => r.fleet === 'ado').map((r) => r.name),
  );
  add(
    d.reimage,
    output.planned.reimage.map((r) => `${r.scaleSet}_${r.instanceId}`),
  );
  add(
    d.recycle,
    output.planned.recycle.map((r) => `${r.scaleSet}_${r.instanceId}`),
  );
  add(
    d.keptBusy,
    output.kept.filter((k) => k.reason === 'busy').map((k) => k.name),
  );
  add(
    d.foreign,
    output.foreign.map((f) => f.name),
  );
  add(hygiene.errors, output.errors);
}

function describeCleanup(output: CleanupOutput): string {
  const removals = noRemovals();
  addCleanupRemovals(removals, output);
  const { githubRunners: runners, adoAgents: agents } = removals;
  const why = [
    [runners.ghosts + agents.ghosts, 'ghosts'],
    [runners.offline + agents.offline, 'offline past grace'],
    [agents.recycled, 'recycled agents'],
  ]
    .filter(([n]) => n)
    .map(([n, what]) => `${n} ${what}`);
  const deleted = `${runners.total + agents.total}${why.length ? ` (${why.join(', ')})` : ''}`;
  const skipped = output.removed.filter((r) => r.outcome === 'busy' || r.outcome === 'online').length;
  const reimaged = output.reimaged.reduce((n, r) => n + r.instanceIds.length, 0);
  const recycled = output.recycled.reduce((n, r) => n + r.instanceIds.length, 0);
  const parts = output.dryRun
    ? [
        `planned: remove ${output.planned.remove.length}, reimage ${output.planned.reimage.length}, recycle ${output.planned.recycle.length}`,
      ]
    : [`removed ${deleted}`, `reimaged ${reimaged}`, `recycled ${recycled}`];
  if (skipped) parts.push(`skipped ${skipped} that became busy or came back online`);
  parts.push(
    `kept busy ${output.kept.filter((k) => k.reason === 'busy').length}`,
    `foreign ${output.foreign.length}`,
  );
  if (output.errors.length) parts.push(`errors: ${output.errors.join('; ')}`);
  return `finished${output.dryRun ? ' (dry run)' : ''}: ${parts.join(', ')}`;
}

interface HeldRebuild {
  image: ImageKind;
  version: string;
  deadline: string;
  reasons: string[];
  changes?: SoftwareChange[];
}

/** A running rebuild that waits for approval (its custom status says so), or undefined. */
function heldForApproval(status: { runtimeStatus: string; customStatus: unknown }): HeldRebuild | undefined {
  if (status.runtimeStatus !== 'Running') return undefined;
  const custom = (status.customStatus ?? {}) as {
    state?: string;
    image?: ImageKind;
    version?: string;
    changes?: SoftwareChange[];
    approval?: { held?: string[]; deadline?: string };
  };
  if (custom.state !== 'awaitingApproval' || !custom.image) return undefined;
  return {
    image: custom.image,
    version: custom.version ?? '',
    deadline: custom.approval?.deadline ?? '',
    reasons: custom.approval?.held ?? [],
    ...(custom.changes ? { changes: custom.changes } : {}),
  };
}

function describeRebuild(output: RebuildOutput): string {
  const pruned = output.pruned.length ? `; pruned ${output.pruned.join(', ')}` : '';
  const rolled = output.rollout
    ? `; ${Object.entries(output.rollout.scaleSets)
        .map(([name, s]) => `${name} ${s.state}`)
        .join(', ')}`
    : '';
  return `${output.image} ${output.version}: ${output.state}${output.reason ? ` — ${output.reason}` : ''}${output.canary ? `; canary ${output.canary}` : ''}${rolled}${pruned}`;
}

function describeRollout(output: RolloutOutput): string {
  const sets = Object.values(output.scaleSets).map(
    (s) => `${s.scaleSet} ${s.state}${s.instancesPending ? ` (${s.instancesPending} pending)` : ''}`,
  );
  return `${output.kind} ${output.definition} ${output.version}: ${output.state}${output.reason ? ` — ${output.reason}` : ''}${sets.length ? `; ${sets.join(', ')}` : ''}`;
}

function buildReport(input: {
  scenario: Scenario;
  dryRun: boolean;
  cloud: FakeCloud;
  host: LocalAppHost;
  hygiene: SimulationReport['hygiene'];
  removed: RegistrationsRemoved;
  settings: SettingUsed[];
  rollouts: RolloutOutput[];
  rebuilds: RebuildOutput[];
  violations: Violation[];
  events: ReportEvent[];
  registrations: RegistrationCounts;
  virtualMinutes: number;
  criticalPath: CriticalPath;
  /** When the image's fleet first ran the version entirely (virtual ms). */
  fleetUpdatedAt: (image: ImageKind, version: string) => number | undefined;
  workload: WorkloadReport | undefined;
}): SimulationReport {
  const { scenario, dryRun, cloud, host, hygiene, rollouts, rebuilds } = input;
  const instances = host.runner.listInstances();
  const failed = instances
    .filter((i) => i.runtimeStatus === 'Failed')
    .map((i) => ({ instanceId: i.instanceId, error: String(i.output) }));
  const running = instances
    .filter((i) => i.runtimeStatus === 'Running' || i.runtimeStatus === 'Pending')
    .map((i) => i.instanceId);

  const scaleSets: SimulationReport['scaleSets'] = {};
  for (const s of scenario.scaleSets) {
    const version = cloud.scaleSetVersion(s.name) ?? s.version;
    // The last rollout that did something to this scale set says what happened to it.
    const results = rollouts.flatMap((r) => Object.values(r.scaleSets).filter((x) => x.scaleSet === s.name));
    const decisive = [...results].reverse().find((r) => r.state !== 'untouched') ?? results.at(-1);
    const state = dryRun
      ? 'planned'
      : decisive && decisive.state !== 'refused' && decisive.state !== 'failed'
        ? decisive.state
        : version === s.version
          ? 'untouched'
          : 'updated';
    scaleSets[s.name] = {
      state,
      version,
      previousVersion: s.version,
      instancesUpdated: results.reduce((n, r) => n + r.instancesUpdated, 0),
      instancesPending: decisive?.instancesPending ?? 0,
      managed: s.managed,
      ...(decisive?.reason && decisive.state !== 'updated' ? { reason: decisive.reason } : {}),
    };
  }

  const images: SimulationReport['images'] = {};
  for (const r of rebuilds)
    images[r.image] = {
      version: r.version,
      state: r.state,
      regions: r.regions,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.software?.changes ? { changes: r.software.changes } : {}),
      ...(r.approval ? { approval: r.approval } : {}),
      ...(r.leftBehind?.length ? { leftBehind: r.leftBehind } : {}),
      ...timeToFleet(scenario, r, input.fleetUpdatedAt, input.criticalPath.images[r.image]),
    };
  // A rebuild still held when the clock stopped is reported as held, with what holds it.
  for (const status of instances) {
    const held = status.name === Orchestrations.rebuild ? heldForApproval(status) : undefined;
    if (held)
      images[held.image] = {
        version: held.version,
        state: 'awaitingApproval',
        regions: [],
        reason: `awaiting approval until ${held.deadline}: ${held.reasons.join('; ')}`,
        ...(held.changes ? { changes: held.changes } : {}),
      };
  }

  const rolloutStates = rollouts.map((r) => r.state);
  const imageStates = rebuilds.map((r) => r.state);
  let outcome: SimulationReport['outcome'] = 'succeeded';
  if (dryRun) outcome = 'planned';
  else if (
    failed.length > 0 ||
    hygiene.errors.length > 0 ||
    rolloutStates.includes('failed') ||
    imageStates.includes('failed')
  )
    outcome = 'failed';
  else if (rolloutStates.includes('rolledBack') || imageStates.includes('rejected')) outcome = 'rolledBack';
  else if (running.length > 0 || rolloutStates.includes('partial')) outcome = 'partial';

  const ledger = cloud.ledger;
  return {
    scenario: scenario.name,
    outcome,
    // A dry run asked for on the command line plans what the file expects to happen.
    expected: dryRun && !scenario.dryRun ? ['planned'] : [...scenario.expect.outcome],
    violations: input.violations,
    authorizationFailures: [...cloud.access.failures],
    contractViolations: [...cloud.contractViolations],
    dryRun,
    settings: input.settings,
    images,
    scaleSets,
    jobsInterrupted: ledger.jobsInterrupted,
    deleted: {
      githubRunners: [...ledger.deleted.githubRunners],
      adoAgents: [...ledger.deleted.adoAgents],
      galleryVersions: [...ledger.deleted.galleryVersions],
      instances: [...ledger.deleted.instances],
    },
    registrationsRemoved: input.removed,
    foreignTouched: ledger.foreignTouched,
    registrations: {
      brokered: input.registrations.brokered,
      refused: Object.fromEntries(Object.entries(input.registrations.refused).sort()),
    },
    secretsReachableFromVms: cloud.world.registrationSecretsReachableFromVms(),
    apiCalls: { ...cloud.requests },
    faultsInjected: { ...cloud.faults.fired },
    virtualMinutes: input.virtualMinutes,
    criticalPathMinutes: input.criticalPath.minutes,
    ...(input.workload ? { workload: input.workload } : {}),
    maxHistoryEvents: Math.max(0, ...host.runner.stats().map((s) => s.maxHistoryEvents)),
    hygiene,
    rollouts: rollouts.map((r) => ({
      definition: r.definition,
      version: r.version,
      source: r.source,
      kind: r.kind,
      state: r.state,
      reason: r.reason,
    })),
    orchestrations: {
      instances: instances.length,
      completed: instances.filter((i) => i.runtimeStatus === 'Completed').length,
      failed,
      running,
    },
    events: input.events,
  };
}

/** Settings the simulation must control; anything the user's shell sets for real Azure is replaced. */
function applyEnvironment(env: Record<string, string>): void {
  for (const key of Object.keys(process.env)) {
    if (/^(AZURE_|ARM_|GITHUB_|ADO_|KEYVAULT_|IDENTITY_|MSI_|IMDS_)/.test(key)) delete process.env[key];
  }
  Object.assign(process.env, env);
}

function restoreEnvironment(previous: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in previous)) delete process.env[key];
  Object.assign(process.env, previous);
}

function describeChange(change: Exclude<Scenario['changes'][number], { action: 'event' }>): string {
  const { atMinutes: _at, action, ...fields } = change;
  return `${action} ${Object.entries(fields)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')}`;
}

/**
 * MSAL (inside @azure/identity) keeps one managed-identity token cache per process, in a static of
 * ManagedIdentityApplication, with expiry on the wall clock. A simulation run after another in the
 * same process would reuse the earlier run's tokens for audiences that do not change from run to run
 * (the fake Key Vault's), make fewer identity requests than in a fresh process, and meet a `times`
 * fault of the identity service at another request: the same scenario would run differently.
 * Emptying the cache first makes every run start as in a fresh process.
 */
function forgetManagedIdentityTokens(): void {
  (ManagedIdentityApplication as unknown as { nodeStorage?: { clear(): void } }).nodeStorage?.clear();
}
