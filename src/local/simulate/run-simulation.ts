/**
 * `kiln simulate`: runs the app as registered (local host + local durable runner) against the fake
 * cloud built from a scenario, on a virtual clock, and reports what happened. The app's clients
 * reach the fakes only through settings (endpoints, managed identity endpoint) — the same ones that
 * serve sovereign clouds and GitHub Enterprise Server.
 */
import { VirtualClock } from '../clock.js';
import { startFakeCloud, type FakeCloud } from '../fake-cloud/index.js';
import { LocalAppHost } from '../host/app-host.js';
import type { Scenario, TriggerName } from '../scenario/types.js';
import { nextOccurrence, parseNcrontab } from '../../domain/ncrontab.js';
import { resetRuntime } from '../../functions/runtime.js';
import { InstanceIds } from '../../names.js';
import type { CleanupOutput } from '../../orchestrations/cleanup.js';
import type { ReportEvent, SimulationReport } from './report.js';

export interface SimulationOptions {
  /** Overrides the scenario's `trigger` list. */
  triggers?: TriggerName[];
  /** Overrides the scenario's `dryRun`. */
  dryRun?: boolean;
  /** Progress and logs (stderr in the CLI). */
  log?: (line: string) => void;
  /** Keep the fake cloud and host running after the run (kiln serve); the caller closes them. */
  keepRunning?: boolean;
  /** Changes the fake world before the app starts (tests: a crashed runner service, a stopped VM). */
  onStart?: (cloud: FakeCloud) => void;
}

export interface SimulationResult {
  report: SimulationReport;
  cloud: FakeCloud;
  host: LocalAppHost;
  close: () => Promise<void>;
}

/** Trigger names whose flows exist today, and the timer functions that belong to them. */
const AVAILABLE_TRIGGERS: TriggerName[] = ['cleanup'];

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
  const unavailable = triggers.filter((t) => !AVAILABLE_TRIGGERS.includes(t));
  if (unavailable.length > 0) {
    throw new SimulationError(
      `trigger ${unavailable.map((t) => `"${t}"`).join(', ')} is not available yet (available: ${AVAILABLE_TRIGGERS.join(', ')})`,
    );
  }

  const clock = new VirtualClock(scenario.start);
  const untilMs = Date.parse(scenario.until);
  const cloud = await startFakeCloud({ scenario, clock });
  options.onStart?.(cloud);
  const previousEnv = { ...process.env };
  // GitHub's rate limits are enforced by the fake on the virtual clock; spacing writes in real
  // time would only cost wall time there.
  applyEnvironment({ GITHUB_WRITE_INTERVAL_MS: '0', ...cloud.env });
  resetRuntime();

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
  const host = await LocalAppHost.start({
    clock,
    log: (level, source, message) => log(`  [${level}] ${source}: ${message}`),
  });

  const pendingTriggers: (() => Promise<void>)[] = [];
  if (scenario.timers) {
    for (const timer of host.timerFunctions()) {
      const schedule = parseNcrontab(timer.schedule);
      const arm = (after: number) => {
        const at = nextOccurrence(schedule, after);
        if (at === undefined || at > untilMs) return;
        clock.schedule(
          at,
          () => {
            pendingTriggers.push(async () => {
              // In a dry run, timers do not change anything either: they start plan-only runs.
              if (dryRun && timer.name === 'cleanupTimer')
                await startCleanupOverHttp(host, true, event, 'timer');
              else await host.fireTimer(timer.name);
            });
            arm(at);
          },
          `timer ${timer.name}`,
        );
      };
      arm(clock.nowMs() - 1);
    }
  }
  for (const trigger of triggers) {
    if (trigger === 'cleanup') pendingTriggers.push(() => startCleanupOverHttp(host, dryRun, event, 'http'));
  }

  const started = Date.now();
  const observedCleanups = new Set<string>();
  const hygiene: SimulationReport['hygiene'] = {
    runs: 0,
    decisions: { removeRunners: [], removeAgents: [], reimage: [], keptBusy: [], foreign: [] },
    errors: [],
  };
  const collectCleanup = () => {
    const status = host.runner.getStatus(InstanceIds.cleanup);
    if (!status || status.runtimeStatus !== 'Completed') return;
    const key = status.lastUpdatedTime + status.createdTime;
    if (observedCleanups.has(key)) return;
    observedCleanups.add(key);
    const output = status.output as CleanupOutput;
    hygiene.runs++;
    mergeCleanup(hygiene, output);
    const acted = output.removed.length + output.reimaged.length;
    const planned = output.planned.remove.length + output.planned.reimage.length;
    if (planned > 0 || acted > 0 || output.errors.length > 0 || hygiene.runs === 1) {
      event('cleanup', describeCleanup(output));
    }
  };

  let lastWorkAt = clock.nowMs();
  for (;;) {
    while (pendingTriggers.length > 0) await pendingTriggers.shift()!();
    await host.runner.runUntilQuiet();
    collectCleanup();
    if (
      host.runner.listInstances().some((i) => i.runtimeStatus === 'Running' || i.runtimeStatus === 'Pending')
    )
      lastWorkAt = clock.nowMs();
    if (pendingTriggers.length > 0) continue;
    const next = clock.nextAt();
    if (next === undefined || next > untilMs) break;
    clock.advanceTo(next);
    clock.runDue();
  }
  for (const s of host.runner.listInstances())
    lastWorkAt = Math.max(lastWorkAt, Date.parse(s.lastUpdatedTime));
  log(`simulation finished in ${((Date.now() - started) / 1000).toFixed(1)} s of wall time`);
  syncLedger();

  const report = buildReport(
    scenario,
    dryRun,
    cloud,
    host,
    hygiene,
    timeline,
    Math.round((lastWorkAt - Date.parse(scenario.start)) / 60_000),
  );
  const close = async () => {
    await host.close();
    await cloud.close();
    restoreEnvironment(previousEnv);
    resetRuntime();
  };
  if (!options.keepRunning) await close();
  return { report, cloud, host, close };
}

async function startCleanupOverHttp(
  host: LocalAppHost,
  dryRun: boolean,
  event: (flow: string, message: string) => void,
  via: string,
): Promise<void> {
  const response = await host.invokeHttp({
    method: 'POST',
    path: '/api/cleanups',
    body: JSON.stringify({ dryRun }),
    headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey },
  });
  if (response.status === 202) event('cleanup', `started by ${via}${dryRun ? ' (dry run)' : ''}`);
  else if (response.status === 409) event('cleanup', `not started by ${via}: a cleanup is already running`);
  else throw new SimulationError(`POST /api/cleanups answered ${response.status}: ${response.body}`);
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
  const deleted = output.removed.filter((r) => r.outcome === 'deleted').length;
  const skipped = output.removed.filter((r) => r.outcome === 'busy' || r.outcome === 'online').length;
  const reimaged = output.reimaged.reduce((n, r) => n + r.instanceIds.length, 0);
  const parts = output.dryRun
    ? [`planned: remove ${output.planned.remove.length}, reimage ${output.planned.reimage.length}`]
    : [`removed ${deleted}`, `reimaged ${reimaged}`];
  if (skipped) parts.push(`skipped ${skipped} that became busy or came back online`);
  parts.push(
    `kept busy ${output.kept.filter((k) => k.reason === 'busy').length}`,
    `foreign ${output.foreign.length}`,
  );
  if (output.errors.length) parts.push(`errors: ${output.errors.join('; ')}`);
  return `finished${output.dryRun ? ' (dry run)' : ''}: ${parts.join(', ')}`;
}

function buildReport(
  scenario: Scenario,
  dryRun: boolean,
  cloud: FakeCloud,
  host: LocalAppHost,
  hygiene: SimulationReport['hygiene'],
  events: ReportEvent[],
  virtualMinutes: number,
): SimulationReport {
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
    scaleSets[s.name] = {
      state: dryRun ? 'planned' : version === s.version ? 'untouched' : 'updated',
      version,
      previousVersion: s.version,
      instancesUpdated: 0,
      instancesPending: 0,
      managed: s.managed,
    };
  }
  const ledger = cloud.ledger;
  let outcome: SimulationReport['outcome'] = 'succeeded';
  if (dryRun) outcome = 'planned';
  else if (failed.length > 0 || hygiene.errors.length > 0) outcome = 'failed';
  else if (running.length > 0) outcome = 'partial';
  return {
    scenario: scenario.name,
    outcome,
    dryRun,
    images: {},
    scaleSets,
    jobsInterrupted: ledger.jobsInterrupted,
    deleted: {
      githubRunners: [...ledger.deleted.githubRunners],
      adoAgents: [...ledger.deleted.adoAgents],
      galleryVersions: [...ledger.deleted.galleryVersions],
      instances: [...ledger.deleted.instances],
    },
    foreignTouched: ledger.foreignTouched,
    apiCalls: { ...cloud.requests },
    faultsInjected: { ...cloud.faults.fired },
    virtualMinutes,
    // Hygiene needs no waiting: its shortest possible duration is zero virtual minutes.
    criticalPathMinutes: 0,
    maxHistoryEvents: Math.max(0, ...host.runner.stats().map((s) => s.maxHistoryEvents)),
    hygiene,
    orchestrations: {
      instances: instances.length,
      completed: instances.filter((i) => i.runtimeStatus === 'Completed').length,
      failed,
      running,
    },
    events,
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
