/**
 * The fault-injection matrix (issue 9): for every ARM, GitHub and Azure DevOps operation a flow uses,
 * inject each fault kind into the fake cloud, run the flow to its end in a small scenario and check
 * that it completes (or fails naming the operation), that the safety invariants hold, that no scale
 * set is left on a version that was not promoted, and that running the flow again converges.
 *
 * Each flow's matrix is its own test file (fault-matrix-<flow>.test.ts) so that vitest runs them in
 * parallel; this module holds the scenarios, the cell runner and the printed summary.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FakeCloud, FakeFault } from '../../src/local/fake-cloud/index.js';
import type { LocalAppHost } from '../../src/local/host/app-host.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import type { SimulationReport } from '../../src/local/simulate/report.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { InstanceIds, Orchestrations } from '../../src/names.js';

export type FlowName = 'cleanup' | 'rollout-linux' | 'rollout-windows' | 'rebuild';
export type FaultKind = '429' | '500' | '503' | 'reset' | 'hang' | 'lro-failed';
export const HTTP_FAULTS: FaultKind[] = ['429', '500', '503', 'reset', 'hang'];

/**
 * A request that never gets an answer ends only when the client's own timeout fires: 30 s an attempt
 * of GitHub and Azure DevOps, 60 s a call of every client (CLIENT_ATTEMPT_TIMEOUT_MS and
 * CLIENT_REQUEST_TIMEOUT_MS). The matrix's hang cells set both to this, as an operator would, so that
 * every operation gets a hang cell; fault-matrix-real-timeouts.test.ts runs one cell per service with
 * the defaults.
 */
const SCALED_TIMEOUT_MS = 1_500;
export const SCALED_TIMEOUTS: Record<string, string> = {
  CLIENT_ATTEMPT_TIMEOUT_MS: String(SCALED_TIMEOUT_MS),
  CLIENT_REQUEST_TIMEOUT_MS: String(SCALED_TIMEOUT_MS),
};
/**
 * Retry-After the injected 429s carry. The SDKs would really wait it (wall time); the clients' own
 * tests (test/clients) prove each one honours a Retry-After, so here it costs nothing.
 */
export const RETRY_AFTER_SECONDS = 0;

/** Operations each flow uses, by service (checked against what a fault-free run sends: see coverage test). */
export const FLOW_OPERATIONS: Record<FlowName, { http: string[]; lro: string[] }> = {
  cleanup: {
    http: [
      'arm:resources.list',
      'arm:virtualMachineScaleSets.get',
      'arm:virtualMachineScaleSetVMs.list',
      'arm:virtualMachineScaleSets.reimage',
      'github:getOrgInstallation',
      'github:createInstallationAccessToken',
      'github:listRunners',
      'github:getRunner',
      'github:deleteRunner',
      'ado:getPools',
      'ado:listAgents',
      'ado:getAgent',
      'ado:deleteAgent',
    ],
    lro: ['arm:virtualMachineScaleSets.reimage'],
  },
  'rollout-linux': {
    http: [
      'arm:galleryImageVersions.get',
      'arm:resources.list',
      'arm:virtualMachineScaleSets.get',
      'arm:virtualMachineScaleSetVMs.list',
      'arm:virtualMachineScaleSets.update',
      'arm:virtualMachineScaleSets.updateInstances',
      'arm:operations.get',
      'github:getOrgInstallation',
      'github:createInstallationAccessToken',
      'github:listRunners',
      'github:deleteRunner',
      // The registration broker, as the upgraded instances register again: the instance read, the JIT config.
      'arm:virtualMachineScaleSetVMs.get',
      'github:generateJitConfig',
    ],
    lro: ['arm:virtualMachineScaleSets.updateInstances'],
  },
  'rollout-windows': {
    // The ARM side of a rollout is the same for both images (rollout-linux has its cells).
    http: ['ado:getPools', 'ado:listAgents', 'ado:updateAgent'],
    lro: [],
  },
  rebuild: {
    // The canary and the promotion roll out exactly as rollout-linux/-windows do (their cells cover
    // those operations); here: the pipeline's own operations, each hit first where the pipeline uses it.
    http: [
      'arm:galleryImageVersions.listByGalleryImage',
      'arm:resources.list',
      'arm:virtualMachineScaleSets.get',
      'arm:virtualMachineScaleSetVMs.list',
      'arm:jobs.listExecutions',
      'arm:jobs.start',
      'arm:jobExecution',
      'arm:galleryImageVersions.createOrUpdate',
      'arm:galleryImageVersions.get',
      'arm:galleryImageVersions.update',
      'arm:galleryImageVersions.delete',
      'arm:images.delete',
      'arm:operations.get',
      'github:getLatestRelease',
    ],
    lro: [
      'arm:jobs.start',
      'arm:galleryImageVersions.createOrUpdate',
      'arm:replication',
      'arm:virtualMachineScaleSets.updateInstances',
    ],
  },
};

/**
 * How a failure names each operation: the clients' error messages use their own operation names
 * (e.g. "arm manualUpgrade vmss-gh [0] failed (HTTP 500)"), the fake the SDK's.
 */
const NAMED_AS: Record<string, RegExp> = {
  'arm:resources.list': /listScaleSetsByTag|listAllScaleSets/,
  'arm:virtualMachineScaleSets.get': /getScaleSet/,
  'arm:virtualMachineScaleSetVMs.list': /listInstances/,
  'arm:virtualMachineScaleSetVMs.get': /getInstance/,
  'github:generateJitConfig': /generateJitConfig/,
  'arm:virtualMachineScaleSets.reimage': /reimage/,
  'arm:virtualMachineScaleSets.update': /setScaleSetImage/,
  'arm:virtualMachineScaleSets.updateInstances': /manualUpgrade|upgrade/,
  'arm:galleryImageVersions.get': /getImageVersion|setImageVersionTags/,
  'arm:galleryImageVersions.listByGalleryImage': /listImageVersions/,
  'arm:galleryImageVersions.createOrUpdate': /createImageVersion|publish/,
  'arm:galleryImageVersions.update': /updateImageVersion|setImageVersionTags/,
  'arm:galleryImageVersions.delete': /deleteImageVersion/,
  'arm:images.delete': /deleteManagedImage/,
  'arm:jobs.listExecutions': /listJobExecutions|Packer build/,
  'arm:jobs.start': /startJobExecution|Packer build/,
  'arm:jobExecution': /getJobExecution|Packer execution/,
  'arm:operations.get': /arm \w+/,
  'arm:replication': /replicat/,
  'github:getOrgInstallation': /github authenticate/,
  'github:createInstallationAccessToken': /github/,
  'github:listRunners': /listRunners|findRunnersByName/,
  'github:getRunner': /getRunner/,
  'github:deleteRunner': /deleteRunner/,
  'github:getLatestRelease': /getLatestRunnerRelease|runner release/,
  'ado:getPools': /pools|pool lookup/,
  'ado:listAgents': /agents/,
  'ado:getAgent': /agents\/\d+/,
  'ado:updateAgent': /PATCH .*agents/,
  'ado:deleteAgent': /DELETE .*agents/,
};

export function faultFor(operation: string, kind: FaultKind): FakeFault {
  const [service, op] = operation.split(':') as [FakeFault['service'], string];
  const base = { service, operation: op, times: 1 };
  switch (kind) {
    case '429':
      return { ...base, status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS };
    case '500':
      return { ...base, status: 500 };
    case '503':
      return { ...base, status: 503 };
    case 'reset':
      return { ...base, status: 0 };
    case 'hang':
      return { ...base, hang: true };
    case 'lro-failed':
      // Long-running operations fail for good: every attempt kiln makes ends Failed.
      return op === 'replication'
        ? { ...base, fail: true, region: 'northeurope', times: 8 }
        : { ...base, fail: true, times: 50 };
  }
}

const START = '2026-12-01T02:55:00Z';

export function flowScenario(flow: FlowName): Scenario {
  const common = {
    name: `fault-matrix-${flow}`,
    start: START,
    timers: false,
    latency: { replication: 10, reimage: 3, register: 1 },
  };
  const oneRegion = {
    regions: ['westeurope'],
    existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
  };
  const fleet = [
    { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2 },
    { name: 'vmss-ado', image: 'windows', region: 'westeurope', capacity: 2 },
  ];
  const json: Record<string, unknown> =
    flow === 'cleanup'
      ? {
          ...common,
          trigger: ['cleanup'],
          until: '2026-12-01T08:00:00Z',
          gallery: oneRegion,
          scaleSets: fleet,
          ghosts: { github: 1, ado: 1 },
          foreign: { github: 1, ado: 1 },
        }
      : flow === 'rebuild'
        ? {
            ...common,
            trigger: ['http-rebuild'],
            until: '2026-12-03T00:00:00Z',
            gallery: {
              regions: ['westeurope', 'northeurope'],
              existingVersions: { linux: ['2026.8.1', '2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
            },
            images: { linux: { buildMinutes: 10 }, windows: { buildMinutes: 10 } },
            scaleSets: [
              ...fleet,
              { name: 'vmss-gh-neu', image: 'linux', region: 'northeurope', capacity: 1 },
            ],
          }
        : {
            ...common,
            trigger: ['eventgrid'],
            until: '2026-12-02T00:00:00Z',
            gallery: oneRegion,
            scaleSets: fleet,
            eventgrid: {
              version: { image: flow === 'rollout-linux' ? 'linux' : 'windows', version: '2026.12.1' },
              duplicates: 2,
            },
          };
  return parseScenario(JSON.stringify(json), 'inline');
}

/** Settings that keep the simulated waits short. */
const FLOW_SETTINGS: Record<string, string> = { CANARY_SOAK_MINUTES: '10' };

export interface CellResult {
  flow: FlowName;
  operation: string;
  kind: FaultKind;
  passed: boolean;
  /** How the first run ended: "completed" or the failure naming the operation. */
  outcome: string;
  problems: string[];
  wallMs: number;
}

export interface RunOptions {
  /** App settings on top of the flow's (hang cells: SCALED_TIMEOUTS). */
  settings?: Record<string, string>;
  /** Records every service:operation the fakes were asked (coverage test). */
  record?: Set<string>;
}

/**
 * Runs one cell: the flow with the fault, then the flow again, and checks everything. Never throws
 * for a broken expectation: the problems are returned (and asserted by the caller).
 */
export async function runCell(
  flow: FlowName,
  operation: string | undefined,
  kind: FaultKind | undefined,
  options: RunOptions = {},
): Promise<CellResult> {
  const started = Date.now();
  const problems: string[] = [];
  const scenario = flowScenario(flow);
  const referencedAtStart = new Set(scenario.scaleSets.map((s) => `${definitionOf(s.image)}/${s.version}`));
  let outcome = 'completed';
  const result = await runSimulation(scenario, {
    keepRunning: true,
    // The cleanup runs on its timer too: the runner offline past grace (30 min) is read and removed by
    // a later run, so its GET meets the fault during the run.
    ...(flow === 'cleanup' ? { timers: ['cleanupTimer'] } : {}),
    settings: { ...FLOW_SETTINGS, ...options.settings },
    secrets: { githubAppKey: APP_KEY },
    onStart: (cloud) => {
      if (flow === 'cleanup') strandInstances(cloud, Date.parse(scenario.start));
      if (operation && kind) cloud.addFault(faultFor(operation, kind));
      if (options.record) recordOperations(cloud, options.record);
    },
  });
  try {
    const { report, cloud, host } = result;
    if (operation && kind && !report.faultsInjected[operation])
      problems.push(`the ${kind} fault never fired`);

    // 1. The flow ran to its end, or failed naming the operation.
    if (report.orchestrations.running.length > 0)
      problems.push(`still running at the end: ${report.orchestrations.running.join(', ')}`);
    const failures = failureReasons(report);
    if (failures.length > 0) {
      outcome = `failed: ${failures[0]!.slice(0, 160)}`;
      const named = operation ? NAMED_AS[operation] : undefined;
      if (!named || !failures.some((f) => named.test(f)))
        problems.push(`failed without naming ${operation ?? 'an operation'}: ${failures.join(' | ')}`);
    }

    // 2. Safety invariants S1–S5.
    checkInvariants(flow, report, cloud, host, referencedAtStart, 0, problems);
    const deletedBefore = cloud.ledger.deleted.galleryVersions.length;

    // 3. The fault is gone (a persistent long-running failure too); running the flow again
    // converges to the state a fault-free run reaches.
    clearFaults(cloud);
    await rerun(flow, report, cloud, host);
    checkConverged(flow, cloud, host, problems);
    checkInvariants(
      flow,
      report,
      cloud,
      host,
      referencedAtStart,
      deletedBefore,
      problems,
      'after the re-run',
    );
  } finally {
    await result.close();
  }
  return {
    flow,
    operation: operation ?? '(none)',
    kind: kind ?? '429',
    passed: problems.length === 0,
    outcome,
    problems,
    wallMs: Date.now() - started,
  };
}

function clearFaults(cloud: FakeCloud): void {
  (cloud.faults as unknown as { faults: unknown[] }).faults.length = 0;
}

/** One App key for every cell: generating a 2048-bit RSA key per run costs wall time for nothing. */
const APP_KEY = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

function definitionOf(image: 'linux' | 'windows'): string {
  return image === 'linux' ? 'linux-agent' : 'windows-agent';
}

/**
 * Gives the cleanup something to reimage: one instance of each scale set lost its registration an
 * hour ago (past the boot deadline); and something to read before removing: the Linux scale set's
 * first runner went offline (removed once past the grace period, after a fresh read).
 */
function strandInstances(cloud: FakeCloud, startMs: number): void {
  const quiet = [...cloud.world.scaleSets.get('vmss-gh')!.instances.values()][0]!;
  cloud.world.findRunnerByName(quiet.computerName)!.status = 'offline';
  for (const name of ['vmss-gh', 'vmss-ado']) {
    const set = cloud.world.scaleSets.get(name)!;
    const instance = [...set.instances.values()][1]!;
    instance.provisionedAt = startMs - 60 * 60_000;
    const runner = cloud.world.findRunnerByName(instance.computerName);
    if (runner) cloud.world.runners.delete(runner.id);
    const agent = cloud.world.findAgentByName(instance.computerName);
    if (agent) cloud.world.agents.delete(agent.id);
  }
}

function recordOperations(cloud: FakeCloud, into: Set<string>): void {
  const takeHttp = cloud.faults.takeHttp.bind(cloud.faults);
  cloud.faults.takeHttp = (service, op) => {
    into.add(`${service}:${op}`);
    return takeHttp(service, op);
  };
  const takeFailure = cloud.faults.takeFailure.bind(cloud.faults);
  cloud.faults.takeFailure = (service, op, region) => {
    into.add(`lro ${service}:${op}`);
    return takeFailure(service, op, region);
  };
}

/** Every reason a run gives for not having done its work. */
function failureReasons(report: SimulationReport): string[] {
  const reasons = [
    ...report.orchestrations.failed.map((f) => `${f.instanceId}: ${f.error}`),
    ...report.hygiene.errors,
    ...report.rollouts
      .filter((r) => r.state === 'failed' || r.state === 'rolledBack')
      .map((r) => r.reason ?? ''),
    ...Object.values(report.images)
      .filter((i) => i.state !== 'promoted')
      .map((i) => i.reason ?? i.state),
    ...Object.values(report.scaleSets)
      .filter(
        (s) =>
          s.state === 'rolledBack' ||
          s.state === 'pending' ||
          (s.reason && s.managed && s.state !== 'untouched'),
      )
      .map((s) => s.reason ?? s.state),
  ];
  return reasons.filter((r) => r !== '');
}

function checkInvariants(
  flow: FlowName,
  report: SimulationReport,
  cloud: FakeCloud,
  host: LocalAppHost,
  referencedAtStart: Set<string>,
  deletedFrom: number,
  problems: string[],
  when = '',
): void {
  const at = when ? ` ${when}` : '';
  // S1 and S2 (the ledger counts across both runs).
  if (cloud.ledger.jobsInterrupted !== 0)
    problems.push(`S1: ${cloud.ledger.jobsInterrupted} job(s) interrupted${at}`);
  if (cloud.ledger.foreignTouched !== 0)
    problems.push(`S2: ${cloud.ledger.foreignTouched} foreign write(s)${at}`);
  // S3: nothing referenced (at the start or now) was deleted.
  const referenced = new Set(referencedAtStart);
  for (const set of cloud.world.scaleSets.values()) {
    referenced.add(versionRef(set.imageId));
    for (const instance of set.instances.values()) referenced.add(versionRef(instance.imageId));
  }
  // (A version deleted by the first run may be published again under its name by the re-run.)
  for (const deleted of cloud.ledger.deleted.galleryVersions.slice(deletedFrom))
    if (referenced.has(deleted)) problems.push(`S3: referenced version ${deleted} deleted${at}`);
  // S4: no scale set model or instance on a version that is not promoted (excluded from latest).
  for (const set of cloud.world.scaleSets.values()) {
    for (const imageId of [set.imageId, ...[...set.instances.values()].map((i) => i.imageId)]) {
      const [definition, version] = versionRef(imageId).split('/');
      const kind = definition === 'linux-agent' ? 'linux' : 'windows';
      const v = cloud.world.versions.get(cloud.world.versionKey(kind, version!));
      if (v?.excludeFromLatest) {
        problems.push(`S4: ${set.name} left on ${definition}/${version}, which was not promoted${at}`);
        break;
      }
    }
  }
  // S5: one run per key.
  const top = host.runner.listInstances().filter((i) => !i.instanceId.includes(':'));
  const ids = top.map((i) => i.instanceId);
  if (new Set(ids).size !== ids.length) problems.push(`S5: duplicate instance ids${at}`);
  if (flow.startsWith('rollout')) {
    const rollouts = report.rollouts.filter((r) => r.version === '2026.12.1' && r.source === 'eventgrid');
    if (rollouts.length > 1) problems.push(`S5: ${rollouts.length} rollouts of one version${at}`);
  }
}

function versionRef(imageId: string): string {
  const m = /\/images\/([^/]+)\/versions\/([^/]+)$/i.exec(imageId);
  return m ? `${m[1]}/${m[2]}` : imageId;
}

async function post(host: LocalAppHost, path: string, body: unknown) {
  return host.invokeHttp({
    method: 'POST',
    path,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey },
  });
}

/** The same flow once more, on the same cloud, with no fault left: what an operator (or the next timer) does. */
async function rerun(flow: FlowName, report: SimulationReport, cloud: FakeCloud, host: LocalAppHost) {
  const runner = host.runner;
  const limit = runner.clock.nowMs() + 48 * 3600_000;
  const drain = (ids: string[]) =>
    runner.runUntil(limit, () =>
      ids.every((id) => {
        const s = runner.getStatus(id)?.runtimeStatus;
        return s !== 'Running' && s !== 'Pending';
      }),
    );
  if (flow === 'cleanup') {
    // As the timer does: a cleanup every 15 minutes for an hour (past the boot deadline of anything
    // reimaged meanwhile), then the last one must find nothing left to do.
    for (let run = 0; run < 5; run++) {
      if (run > 0) await runner.runUntil(runner.clock.nowMs() + 15 * 60_000);
      await post(host, '/api/cleanups', {});
      await drain([InstanceIds.cleanup]);
    }
    return;
  }
  if (flow === 'rebuild') {
    const images = (['linux', 'windows'] as const).filter((i) => report.images[i]?.state !== 'promoted');
    if (images.length === 0) return;
    await post(host, '/api/rebuilds', { images });
    await drain(images.map((i) => InstanceIds.rebuild(i, '2026-12')));
    return;
  }
  const image = flow === 'rollout-linux' ? 'linux' : 'windows';
  void cloud;
  await post(host, '/api/rollouts', { image, version: '2026.12.1' });
  await drain([InstanceIds.rollout(definitionOf(image), '2026.12.1')]);
}

function checkConverged(flow: FlowName, cloud: FakeCloud, host: LocalAppHost, problems: string[]): void {
  const world = cloud.world;
  const onVersion = (name: string, version: string) => {
    const set = world.scaleSets.get(name)!;
    const versions = [set.imageId, ...[...set.instances.values()].map((i) => i.imageId)].map(
      (id) => versionRef(id).split('/')[1],
    );
    if (versions.some((v) => v !== version))
      problems.push(`not converged: ${name} runs ${[...new Set(versions)].join(', ')}, not ${version}`);
  };
  const registered = (name: string) => {
    for (const instance of world.scaleSets.get(name)!.instances.values()) {
      const reg =
        world.findRunnerByName(instance.computerName) ?? world.findAgentByName(instance.computerName);
      if (!reg || reg.status !== 'online')
        problems.push(`not converged: ${instance.computerName} has no online registration`);
    }
  };
  const last = (name: string) => host.runner.getStatus(name);
  if (flow === 'cleanup') {
    const out = last(InstanceIds.cleanup)?.output as {
      errors?: string[];
      planned?: { remove: unknown[]; reimage: unknown[] };
    };
    if (out?.errors?.length)
      problems.push(`not converged: the last cleanup reported ${out.errors.join('; ')}`);
    if (out?.planned && (out.planned.remove.length > 0 || out.planned.reimage.length > 0))
      problems.push(`not converged: the last cleanup still had work: ${JSON.stringify(out.planned)}`);
    if (cloud.ledger.deleted.githubRunners.length !== 2 || cloud.ledger.deleted.adoAgents.length !== 1)
      problems.push(
        `not converged: deleted ${cloud.ledger.deleted.githubRunners.length} runner(s) and ${cloud.ledger.deleted.adoAgents.length} agent(s), want the 1 + 1 ghosts and the runner offline past grace`,
      );
    registered('vmss-gh');
    registered('vmss-ado');
    return;
  }
  if (flow === 'rebuild') {
    for (const image of ['linux', 'windows'] as const) {
      const status = last(InstanceIds.rebuild(image, '2026-12'));
      const out = status?.output as { state?: string; version?: string } | undefined;
      if (out?.state !== 'promoted') {
        problems.push(`not converged: the ${image} rebuild ended ${out?.state ?? status?.runtimeStatus}`);
        continue;
      }
      for (const set of world.scaleSets.values())
        if (world.kindOfDefinition(versionRef(set.imageId).split('/')[0]!) === image)
          onVersion(set.name, out.version!);
    }
    return;
  }
  const image = flow === 'rollout-linux' ? 'linux' : 'windows';
  onVersion(image === 'linux' ? 'vmss-gh' : 'vmss-ado', '2026.12.1');
  registered(image === 'linux' ? 'vmss-gh' : 'vmss-ado');
  const untouched = image === 'linux' ? 'vmss-ado' : 'vmss-gh';
  onVersion(untouched, '2026.10.1');
}

// ------------------------------------------------------------------ the printed matrix

export function printMatrix(title: string, cells: CellResult[]): string {
  const kinds: FaultKind[] = [...HTTP_FAULTS, 'lro-failed'];
  const rows = new Map<string, Map<FaultKind, CellResult>>();
  for (const c of cells) {
    const row = rows.get(`${c.flow} ${c.operation}`) ?? new Map<FaultKind, CellResult>();
    row.set(c.kind, c);
    rows.set(`${c.flow} ${c.operation}`, row);
  }
  const width = Math.max(...[...rows.keys()].map((k) => k.length), 10);
  const lines = [
    `${title}: ${cells.filter((c) => c.passed).length}/${cells.length} cells passed, ${(cells.reduce((n, c) => n + c.wallMs, 0) / 1000).toFixed(1)} s of wall time`,
    `${'flow operation'.padEnd(width)}  ${kinds.map((k) => k.padEnd(10)).join('')}`,
  ];
  for (const [name, row] of rows) {
    lines.push(
      `${name.padEnd(width)}  ${kinds
        .map((k) => {
          const c = row.get(k);
          const mark = !c ? '·' : !c.passed ? 'FAIL' : c.outcome === 'completed' ? 'ok' : 'ok/failed';
          return mark.padEnd(10);
        })
        .join('')}`,
    );
  }
  const notes = cells.filter((c) => !c.passed || c.outcome !== 'completed');
  for (const c of notes)
    lines.push(
      `  ${c.passed ? 'ok' : 'FAIL'} ${c.flow} ${c.operation} ${c.kind}: ${c.outcome}${c.problems.length ? `; ${c.problems.join('; ')}` : ''}`,
    );
  lines.push(
    'legend: ok = completed; ok/failed = failed naming the operation, invariants held, re-run converged; · = not applicable',
  );
  return lines.join('\n');
}

/** The cells of a flow: every HTTP fault on every operation, and LRO Failed on its long-running ones. */
export function cellsOf(flow: FlowName): [string, FaultKind][] {
  const ops = FLOW_OPERATIONS[flow];
  return [
    ...ops.http.flatMap((op) => HTTP_FAULTS.map((k) => [op, k] as [string, FaultKind])),
    ...ops.lro.map((op) => [op, 'lro-failed'] as [string, FaultKind]),
  ];
}

export { Orchestrations };
