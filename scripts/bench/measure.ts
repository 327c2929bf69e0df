/**
 * One benchmark measurement in its own process (run by run.ts with NODE_EXTRA_CA_CERTS naming the
 * fake cloud's CA): simulates one bench scenario and prints a JSON summary on the last stdout line.
 *
 *   tsx scripts/bench/measure.ts SCENARIO [KEY=VALUE…]   (KEY=VALUE: app settings, e.g. BUILD_TIMEOUT_HOURS=14)
 */
import { ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { SimulationReport } from '../../src/local/simulate/report.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { SCENARIOS, scenarioYaml, type ScenarioName } from './scenarios.js';

export interface Measurement {
  scenario: string;
  outcome: string;
  wallMs: number;
  maxRssMb: number;
  virtualMinutes: number;
  criticalPathMinutes: number;
  /** Each rebuilt image: its state, when its fleet ran it, how long after the build, and the least each could be. */
  images: SimulationReport['images'];
  maxHistoryEvents: number;
  maxHistoryInstance: string;
  replayMs: number;
  episodes: number;
  eventsReplayed: number;
  apiCalls: Record<string, number>;
  rateLimited: number;
  /** Responses of the fake cloud per operation shape (every service, including identity and Key Vault). */
  operations: Record<string, number>;
  /** Upgrade calls ARM accepted, per scale set: the rollout's waves (its minimum counts a look per wave). */
  upgradeCalls: Record<string, number>;
  deleted: { githubRunners: number; adoAgents: number; instances: number };
  jobsInterrupted: number;
  world: { runners: number; agents: number };
  scaleSets: Record<string, { state: string; instancesUpdated: number; instancesPending: number }>;
  /** Orchestrations that ran longest on the virtual clock. */
  slowest: { instanceId: string; name: string; startedMinute: number; minutes: number; status: string }[];
  /** The scenario's workload (capacity on demand), when it has one. */
  workload?: SimulationReport['workload'];
  violations: number;
  history: {
    instanceId: string;
    name: string;
    maxHistoryEvents: number;
    episodes: number;
    replayMs: number;
  }[];
}

/**
 * The fake cloud runs in this process: every refusal for a rate limit (GitHub's 403 with
 * x-ratelimit-remaining 0 or a secondary limit's Retry-After, any 429) passes through writeHead.
 */
function countResponses(): {
  count: number;
  operations: Record<string, number>;
  upgradeCalls: Record<string, number>;
} {
  const refused = {
    count: 0,
    operations: {} as Record<string, number>,
    upgradeCalls: {} as Record<string, number>,
  };
  const writeHead = ServerResponse.prototype.writeHead as (...args: unknown[]) => ServerResponse;
  ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const status = args[0] as number;
    const headers = (args.find((a, i) => i > 0 && a && typeof a === 'object') ?? {}) as OutgoingHttpHeaders;
    // GitHub refuses with 429, or 403 with remaining 0 (primary) or Retry-After (secondary limits).
    const limited =
      status === 429 ||
      (status === 403 && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined));
    if (limited) refused.count++;
    const key = operationOf(this.req?.method, this.req?.headers.host, this.req?.url);
    refused.operations[key] = (refused.operations[key] ?? 0) + 1;
    const upgrade = /\/virtualMachineScaleSets\/([^/]+)\/manualupgrade$/i.exec(
      this.req?.url?.split('?')[0] ?? '',
    );
    if (upgrade && status < 300)
      refused.upgradeCalls[upgrade[1]!] = (refused.upgradeCalls[upgrade[1]!] ?? 0) + 1;
    return writeHead.apply(this, args);
  } as typeof ServerResponse.prototype.writeHead;
  return refused;
}

/** `METHOD host path` with ids, names and versions replaced, e.g. `DELETE github /repos/…/runners/{id}`. */
function operationOf(method = '?', host = '?', url = '/'): string {
  const [path = '/', query] = url.split('?');
  const shape = path
    .split('/')
    .map((seg, i, all) => {
      const before = (all[i - 1] ?? '').toLowerCase();
      if (/^\d+$/.test(seg) || /^[0-9a-f-]{36}$/i.test(seg)) return '{id}';
      // Table storage entities: one shape per table, whatever the keys.
      if (/^[A-Za-z0-9]+\(PartitionKey=/.test(seg)) return seg.replace(/\(.*\)$/, '({keys})');
      if (before === 'vms') return '{name}';
      if (
        /^(virtualmachinescalesets|virtualmachines|versions|images|resourcegroups|subscriptions|pools|agents|operations|locations|galleries)$/.test(
          before,
        ) &&
        seg
      )
        return '{name}';
      return seg;
    })
    .join('/');
  const params = query
    ? `?${[...new URLSearchParams(query).keys()]
        .filter((k) => k !== 'api-version')
        .sort()
        .join('&')}`
    : '';
  return `${method} ${host.split('.')[0]?.split(':')[0]} ${shape}${params === '?' ? '' : params}`;
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || !(name in SCENARIOS)) throw new Error(`usage: measure.ts ${Object.keys(SCENARIOS).join('|')}`);
  const settings = Object.fromEntries(rest.map((kv) => kv.split('=', 2) as [string, string]));
  const scenario = parseScenario(scenarioYaml(name as ScenarioName), `${name}.yaml`);
  const refused = countResponses();
  const started = performance.now();
  let runners = 0;
  let agents = 0;
  const { report, host } = await runSimulation(scenario, {
    settings,
    log: process.env.BENCH_VERBOSE ? (line) => process.stderr.write(`${line}\n`) : undefined,
    onStart: (cloud) => {
      runners = cloud.world.runners.size;
      agents = cloud.world.agents.size;
    },
  });
  const wallMs = performance.now() - started;
  const stats = host.runner.stats();
  const top = [...stats].sort((a, b) => b.maxHistoryEvents - a.maxHistoryEvents);
  const m: Measurement = {
    scenario: report.scenario,
    outcome: report.outcome,
    wallMs,
    // maxRSS is in kilobytes.
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    virtualMinutes: report.virtualMinutes,
    criticalPathMinutes: report.criticalPathMinutes,
    images: report.images,
    maxHistoryEvents: report.maxHistoryEvents,
    maxHistoryInstance: top[0]?.instanceId ?? '',
    replayMs: stats.reduce((n, s) => n + s.replayMs, 0),
    episodes: stats.reduce((n, s) => n + s.episodes, 0),
    eventsReplayed: stats.reduce((n, s) => n + s.eventsReplayed, 0),
    apiCalls: report.apiCalls,
    rateLimited: refused.count,
    operations: Object.fromEntries(Object.entries(refused.operations).sort((a, b) => b[1] - a[1])),
    upgradeCalls: refused.upgradeCalls,
    deleted: {
      githubRunners: report.deleted.githubRunners.length,
      adoAgents: report.deleted.adoAgents.length,
      instances: report.deleted.instances.length,
    },
    jobsInterrupted: report.jobsInterrupted,
    ...(report.workload ? { workload: report.workload } : {}),
    violations: report.violations.length,
    world: { runners, agents },
    scaleSets: Object.fromEntries(
      Object.entries(report.scaleSets).map(([k, s]) => [
        k,
        { state: s.state, instancesUpdated: s.instancesUpdated, instancesPending: s.instancesPending },
      ]),
    ),
    slowest: host.runner
      .listInstances()
      .map((i) => ({
        instanceId: i.instanceId,
        name: i.name,
        startedMinute: Math.round((Date.parse(i.createdTime) - Date.parse(scenario.start)) / 60_000),
        minutes: Math.round((Date.parse(i.lastUpdatedTime) - Date.parse(i.createdTime)) / 60_000),
        status: i.runtimeStatus,
      }))
      .sort((a, b) => b.minutes - a.minutes)
      .slice(0, 12),
    history: top.slice(0, 8).map((s) => ({
      instanceId: s.instanceId,
      name: s.name,
      maxHistoryEvents: s.maxHistoryEvents,
      episodes: s.episodes,
      replayMs: Math.round(s.replayMs),
    })),
  };
  // Exit only once the line is written: a large one to a pipe would be cut short by process.exit.
  await new Promise<void>((done) => process.stdout.write(`\n${JSON.stringify(m)}\n`, () => done()));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
