/**
 * `npm run bench`: kiln's numbers (issue 9) in one table, also written to dist/bench.json.
 *
 * Every measurement runs in a child process: the simulations (scripts/bench/measure.ts) with
 * NODE_EXTRA_CA_CERTS naming the fake cloud's CA, which Node reads only at start-up, and the cold
 * starts (scripts/bench/cold-start.mjs) in fresh plain `node` processes. The scenarios are generated
 * in code (scripts/bench/scenarios.ts); `--write-scenarios` also writes them to
 * scripts/bench/scenarios/*.yaml for `kiln simulate --scenario`.
 *
 *   npm run bench [-- --rounds N] [-- --only cold-start,cleanup,large-rollout,large,large-remote-canary,large-12h-build,autoscale-day]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { batchSize, DEFAULT_ROLLOUT_OPTIONS } from '../../src/domain/rollout.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import type { Measurement } from './measure.js';
import { AUTOSCALE_DAY, SCENARIOS, scenarioYaml, type ScenarioName } from './scenarios.js';

/** Page sizes of the APIs (and of the fake cloud, which pages as they do). */
const PAGE = { githubRunners: 100, armVms: 50, armResources: 50 };
/** A 12-hour build needs a build timeout above 12 hours. */
const LONG_BUILD_SETTINGS = ['BUILD_TIMEOUT_HOURS=14'];
const MEASURE_TIMEOUT_MS = 5 * 60_000;
const MEASUREMENTS = [
  'cold-start',
  'cleanup',
  'large-rollout',
  'large',
  'large-remote-canary',
  'large-12h-build',
  'autoscale-day',
] as const;
/** Time wasted on a monthly rebuild (virtual minutes over the critical path) at most. */
const WASTED_TARGET = 1.05;
/** A day of minute-by-minute autoscaling takes the simulator longer than the other measurements. */
const AUTOSCALE_TIMEOUT_MS = 20 * 60_000;

interface Row {
  metric: string;
  value: number | string;
  unit: string;
  target: string;
  result: 'pass' | 'fail' | 'info' | 'error';
  note?: string;
}

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    only: { type: 'string' },
    'write-scenarios': { type: 'boolean' },
  },
});
const rounds = Math.max(1, Number(values.rounds) || 7);
const only = new Set(values.only ? values.only.split(',') : MEASUREMENTS);

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** Runs a child to its end; its last stdout line is JSON. */
function child(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = MEASURE_TIMEOUT_MS,
  json = true,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && !json) return resolve(undefined);
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last));
      const why = signal === 'SIGKILL' ? `killed after ${timeoutMs / 1000} s` : `exit ${code ?? signal}`;
      const detail = err.trim().split('\n')[0] ?? '';
      reject(new Error(`${why}: ${detail.slice(0, 400)}`));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

// ----------------------------------------------------------------------------------- cold start

/** The app compiled file by file, unbundled, next to the deployed bundle. */
async function compileUnbundled(dir: string): Promise<void> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) {
        if (!/^src\/(local|cli)$/.test(p)) walk(p);
      } else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk('src');
  await build({
    entryPoints: files,
    outdir: dir,
    outbase: 'src',
    bundle: false,
    platform: 'node',
    format: 'esm',
    // 20.10: the first Node 20 with import attributes, which a JSON import keeps only from there on.
    target: 'node20.10',
    logLevel: 'warning',
  });
  // Unbundled, a JSON import stays an import (src/functions/rebuild.ts reads the Packer toolsets):
  // each file imported goes where the compiled file's relative path looks for it.
  for (const file of files) {
    for (const [, path] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+\.json)'/g)) {
      const source = resolve(dirname(file), path!);
      const target = resolve(dirname(join(dir, relative('src', file))), path!);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(source, target);
    }
  }
}

async function coldStart(rows: Row[], detail: Record<string, unknown>): Promise<void> {
  log('building the deployed bundle (scripts/build.mjs) and the unbundled app');
  await child(['scripts/build.mjs'], process.env, 120_000, false);
  const unbundled = 'dist/bench/unbundled';
  await compileUnbundled(unbundled);
  // The runtime dependencies the bundle contains, each imported eagerly from node_modules.
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  const meta = JSON.parse(readFileSync('dist/app/meta.json', 'utf8')) as { inputs: Record<string, unknown> };
  const inBundle = new Set(
    Object.keys(meta.inputs).flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []),
  );
  const packages = Object.keys(pkg.dependencies).filter((d) => inBundle.has(d));
  const bundle: number[] = [];
  const naive: number[] = [];
  let functions = 0;
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first so drift on the machine hits both alike.
    const order = i % 2 === 0 ? (['bundle', 'naive'] as const) : (['naive', 'bundle'] as const);
    for (const mode of order) {
      const args = [
        'scripts/bench/cold-start.mjs',
        mode,
        ...(mode === 'naive' ? [unbundled, ...packages] : []),
      ];
      const r = (await child(args, process.env, 60_000)) as { ms: number; functions: number };
      (mode === 'bundle' ? bundle : naive).push(r.ms);
      functions = r.functions;
    }
  }
  const b = median(bundle);
  const n = median(naive);
  detail.coldStart = {
    rounds,
    functions,
    packages,
    bundleMs: bundle.map((x) => round(x)),
    naiveMs: naive.map((x) => round(x)),
  };
  rows.push(
    {
      metric: `cold start: bundle, load + register ${functions} functions (median of ${rounds})`,
      value: round(b, 0),
      unit: 'ms',
      target: '',
      result: 'info',
    },
    {
      metric: `cold start: naive, ${packages.length} deps eager + app unbundled (median of ${rounds})`,
      value: round(n, 0),
      unit: 'ms',
      target: '',
      result: 'info',
    },
    {
      metric: 'cold start: bundle / naive',
      value: round(b / n),
      unit: '×',
      target: '≤ 0.50',
      result: b / n <= 0.5 ? 'pass' : 'fail',
    },
  );
}

// ----------------------------------------------------------------------------------- API minimums

interface Minimum {
  arm: number;
  github: number;
  ado: number;
  how: Record<string, string>;
}

const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));

/**
 * Cleanup: find the managed scale sets (the tag-filtered resource list names them; each one's model,
 * with its computer name prefix, is one read), list every registration and every instance once,
 * delete each ghost once.
 */
function cleanupMinimum(s: Scenario): Minimum {
  const linux = s.scaleSets.filter((x) => x.image === 'linux');
  const runners = linux.reduce((n, x) => n + x.capacity, 0) + s.ghosts.github + s.foreign.github;
  const vmPages = s.scaleSets.reduce((n, x) => n + pages(x.capacity, PAGE.armVms), 0);
  const ssPages = pages(s.scaleSets.length, PAGE.armResources);
  const managed = s.scaleSets.filter((x) => x.managed).length;
  return {
    github: pages(runners, PAGE.githubRunners) + s.ghosts.github,
    arm: ssPages + managed + vmPages,
    ado: 2 + s.ghosts.ado,
    how: {
      github: `ceil(${runners} runners / ${PAGE.githubRunners}) list pages + ${s.ghosts.github} deletes`,
      arm: `${ssPages} resource page(s) + ${managed} scale-set reads + ${vmPages} instance list pages (${PAGE.armVms} a page)`,
      ado: `1 pool lookup (the pool is configured by name) + 1 agent list (not paged) + ${s.ghosts.ado} deletes`,
    },
  };
}

/**
 * Rollout of both images to every managed scale set, gated wave by wave. Every change once: point
 * each scale set at the version (the PATCH, plus the status and result reads of ARM's asynchronous
 * operation that say it is done), one upgrade call per wave, drain each instance's registration once
 * (GitHub: delete the runner; ADO: disable the agent). The looks a health-gated rollout cannot skip:
 * read each version, find the scale sets (one tag-filtered resource page, then each one's model),
 * list each scale set's instances and the registrations once at the start, and look once at each
 * wave afterwards — its instances (the health gate, S4) and its registrations (the cheaper of the
 * fleet's list pages and one lookup per instance of the wave), plus for ADO one agent list after
 * disabling (the busy re-check, S1). What a change depends on is read right before it (S8): each
 * scale set's model (and whether another run is proving the version it names) once before it is
 * pointed at the version, once before each wave's upgrade
 * (a model moved since must not carry the instances along), and once when the scale set is done (a
 * scale set reported updated runs the version, S9). Each disabled agent is enabled again once its
 * wave is over (S9: nothing kiln disabled stays disabled). The waves are the upgrade calls ARM
 * accepted: a busy instance moves when its job ends, so jobs ending at different times make extra
 * waves.
 */
function rolloutMinimum(s: Scenario, m: Measurement): Minimum {
  const managed = s.scaleSets.filter((x) => x.managed);
  const images = new Set(managed.map((x) => x.image)).size;
  const ssPages = pages(s.scaleSets.length, PAGE.armResources);
  const vmPages = managed.reduce((n, x) => n + pages(x.capacity, PAGE.armVms), 0);
  const linux = managed.filter((x) => x.image === 'linux');
  const windows = managed.filter((x) => x.image === 'windows');
  const instances = (sets: typeof managed) => sets.reduce((n, x) => n + x.capacity, 0);
  const waves = (sets: typeof managed) => sets.reduce((n, x) => n + (m.upgradeCalls[x.name] ?? 0), 0);
  const runnerPages = pages(instances(linux) + s.ghosts.github + s.foreign.github, PAGE.githubRunners);
  const waveLooksArm = managed.reduce(
    (n, x) => n + (m.upgradeCalls[x.name] ?? 0) * pages(x.capacity, PAGE.armVms),
    0,
  );
  // Waves beyond ceil(capacity / batch) carry the instances freed by jobs ending: count them as one
  // instance each (a single lookup), the cheapest they can be.
  const waveLooksGitHub = linux.reduce((n, x) => {
    const batch = batchSize(x.capacity, DEFAULT_ROLLOUT_OPTIONS.batchPercent);
    const upgrades = m.upgradeCalls[x.name] ?? 0;
    const full = Math.min(upgrades, Math.ceil(x.capacity / batch));
    return n + full * Math.min(runnerPages, batch) + (upgrades - full) * Math.min(runnerPages, 1);
  }, 0);
  const modelReads = managed.length * 3 + waves(managed);
  // Every moved instance registers again through the registration broker (the default modes): the
  // broker reads the managed scale sets once (which identity speaks for which), then per instance
  // its ARM instance and its registration by name, and for a runner makes its JIT config.
  const brokered = {
    github: s.registration.github === 'jit' ? instances(linux) : 0,
    ado: s.registration.ado === 'broker' ? instances(windows) : 0,
  };
  const brokerArm =
    brokered.github + brokered.ado > 0 ? ssPages + managed.length + brokered.github + brokered.ado : 0;
  return {
    arm:
      images +
      ssPages +
      managed.length +
      vmPages +
      managed.length * 3 +
      waves(managed) +
      waveLooksArm +
      modelReads +
      brokerArm,
    github: runnerPages + instances(linux) + waveLooksGitHub + brokered.github * 2,
    ado: 2 + instances(windows) * 2 + waves(windows) * 2 + brokered.ado,
    how: {
      arm: `${images} version reads + ${ssPages} resource page(s) + ${managed.length} scale-set reads + ${vmPages} instance list pages + ${managed.length} model updates × 3 (PATCH, status, result) + ${waves(managed)} upgrade calls (waves) + ${waveLooksArm} instance list pages (one look per wave) + ${modelReads} reads right before a change (${managed.length} models and ${managed.length} versions they name before pointing, ${waves(managed)} models before each upgrade, ${managed.length} at the end) + ${brokerArm} by the registration broker (the managed scale sets once, each registering instance once)`,
      github: `${runnerPages} list pages + ${instances(linux)} runner deregistrations + ${waveLooksGitHub} registration reads (one look per wave, ${waves(linux)} waves: the cheaper of ${runnerPages} pages and a lookup per instance of the wave) + ${brokered.github} × 2 by the registration broker (a lookup by name and the JIT config of each registering runner)`,
      ado: `1 pool lookup + 1 agent list + ${instances(windows)} agent disables + ${instances(windows)} agent enables (the wave's undo) + ${waves(windows)} waves × 2 agent lists (the look, the re-check after disabling) + ${brokered.ado} lookups by name by the registration broker`,
    },
  };
}

function apiRows(label: string, m: Measurement, min: Minimum, rows: Row[]): void {
  for (const service of ['arm', 'github', 'ado'] as const) {
    const used = m.apiCalls[service] ?? 0;
    const ratio = used / min[service];
    rows.push({
      metric: `API economy: ${label}, ${service} requests / minimum (${used} / ${min[service]})`,
      value: round(ratio),
      unit: '×',
      target: '≤ 1.10',
      result: ratio <= 1.1 ? 'pass' : 'fail',
      note: min.how[service],
    });
  }
}

// ----------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  if (values['write-scenarios']) {
    mkdirSync('scripts/bench/scenarios', { recursive: true });
    for (const name of Object.keys(SCENARIOS) as ScenarioName[])
      writeFileSync(`scripts/bench/scenarios/${name}.yaml`, scenarioYaml(name));
    log('wrote scripts/bench/scenarios/*.yaml');
  }
  const ca = ensureFakeCa();
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath };
  // tsx as a loader of a plain `node`, so the child's resource usage is its own.
  const simulate = (name: ScenarioName, settings: string[] = [], timeoutMs = MEASURE_TIMEOUT_MS) => {
    log(`simulating ${name}${settings.length ? ` (${settings.join(' ')})` : ''}`);
    return child(
      ['--import', 'tsx', 'scripts/bench/measure.ts', name, ...settings],
      env,
      timeoutMs,
    ) as Promise<Measurement>;
  };
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const rows: Row[] = [];
  const detail: Record<string, unknown> = {};
  // A measurement that did not finish fails every row it stands for; the note says why.
  const failed = (metrics: [string, string][], error: unknown) => {
    const message = (error as Error).message;
    metrics.forEach(([metric, target], i) =>
      rows.push({
        metric,
        value: 'error',
        unit: '',
        target,
        result: target ? 'fail' : 'error',
        note: i === 0 ? message : undefined,
      }),
    );
  };

  if (only.has('cold-start'))
    await coldStart(rows, detail).catch((e: unknown) =>
      failed([['cold start: bundle / naive', '≤ 0.50']], e),
    );

  if (only.has('cleanup')) {
    try {
      const m = await simulate('cleanup');
      detail.cleanup = m;
      const min = cleanupMinimum(parseScenario(scenarioYaml('cleanup'), 'cleanup'));
      apiRows(
        `cleanup of ${m.world.runners} runners, ${SCENARIOS.cleanup().ghosts ? 300 : 0} ghosts`,
        m,
        min,
        rows,
      );
      rows.push(rateRow('cleanup', m), {
        metric: `history: cleanup, maxHistoryEvents (${m.maxHistoryInstance})`,
        value: m.maxHistoryEvents,
        unit: 'events',
        target: '',
        result: 'info',
      });
    } catch (e) {
      failed(
        [
          ['API economy: cleanup of 5,000 runners, 300 ghosts', '≤ 1.10'],
          ['rate limits: cleanup, requests the fake refused', '0'],
        ],
        e,
      );
    }
  }

  // The rollout, the 12-hour build and the remote canary report counts and virtual times, not wall
  // times: they share the two cores; the large monthly rebuild, whose wall time and memory are
  // measured, runs alone afterwards.
  const [rolloutRun, longRun, remoteCanaryRun] = await Promise.allSettled([
    only.has('large-rollout') ? simulate('large-rollout') : Promise.resolve(undefined),
    only.has('large-12h-build')
      ? simulate('large-12h-build', LONG_BUILD_SETTINGS)
      : Promise.resolve(undefined),
    only.has('large-remote-canary') ? simulate('large-remote-canary') : Promise.resolve(undefined),
  ]);
  if (only.has('large-rollout')) {
    try {
      const m = settled(rolloutRun);
      detail.largeRollout = m;
      const min = rolloutMinimum(parseScenario(scenarioYaml('large-rollout'), 'large-rollout'), m);
      apiRows('large rollout (20×50, both images)', m, min, rows);
      rows.push(rateRow('large rollout', m));
    } catch (e) {
      failed(
        [
          ['API economy: large rollout (20×50, both images)', '≤ 1.10'],
          ['rate limits: large rollout, requests the fake refused', '0'],
        ],
        e,
      );
    }
  }

  if (only.has('large-12h-build')) {
    try {
      const m = settled(longRun);
      detail.large12hBuild = m;
      rows.push({
        metric: `history bound: large with a 12-hour build, maxHistoryEvents (${m.maxHistoryInstance})`,
        value: m.maxHistoryEvents,
        unit: 'events',
        target: '≤ 300',
        result: m.maxHistoryEvents <= 300 ? 'pass' : 'fail',
        note: `outcome ${m.outcome}; ${LONG_BUILD_SETTINGS.join(' ')}`,
      });
    } catch (e) {
      failed([['history bound: large with a 12-hour build, maxHistoryEvents', '≤ 300']], e);
    }
  }

  if (only.has('large-remote-canary')) {
    const label = 'large monthly rebuild, canary outside the build region';
    try {
      const m = settled(remoteCanaryRun);
      detail.largeRemoteCanary = m;
      rows.push(...timeRows(label, m), rateRow(label, m));
    } catch (e) {
      failed(
        [
          [`time wasted: ${label}, virtual / critical path`, `≤ ${WASTED_TARGET.toFixed(2)}`],
          [`rate limits: ${label}, requests the fake refused`, '0'],
        ],
        e,
      );
    }
  }

  if (only.has('large')) {
    try {
      const m = await simulate('large');
      detail.large = m;
      rows.push(
        ...timeRows('large monthly rebuild', m),
        rateRow('large monthly rebuild', m),
        {
          metric: `replay cost: large monthly rebuild, orchestrator time (${m.episodes} episodes, ${m.eventsReplayed} events replayed)`,
          value: round(m.replayMs, 0),
          unit: 'ms',
          target: '',
          result: 'info',
        },
        {
          metric: 'simulator: large monthly rebuild, wall time',
          value: round(m.wallMs / 1000, 1),
          unit: 's',
          target: '',
          result: 'info',
        },
        {
          metric: 'simulator: large monthly rebuild, peak RSS',
          value: round(m.maxRssMb, 0),
          unit: 'MiB',
          target: '',
          result: 'info',
        },
      );
    } catch (e) {
      failed(
        [
          ['time wasted: large monthly rebuild, virtual / critical path', `≤ ${WASTED_TARGET.toFixed(2)}`],
          ['rate limits: large monthly rebuild, requests the fake refused', '0'],
          ['replay cost: large monthly rebuild, orchestrator time', ''],
          ['simulator: large monthly rebuild, wall time', ''],
          ['simulator: large monthly rebuild, peak RSS', ''],
        ],
        e,
      );
    }
  }

  if (only.has('autoscale-day')) {
    try {
      const m = await simulate('autoscale-day', [], AUTOSCALE_TIMEOUT_MS);
      detail.autoscaleDay = m;
      rows.push(...autoscaleRows(m));
    } catch (e) {
      failed(
        [
          ['capacity: autoscale day, queue wait p95', `≤ ${autoscaleWaitTarget()} s`],
          ['capacity: autoscale day, idle instance minutes / oracle', '≤ 1.50'],
          ['capacity: autoscale day, jobs interrupted', '0'],
          ['rate limits: autoscale day, requests the fake refused', '0'],
          ['history bound: autoscale day, maxHistoryEvents', '≤ 300'],
        ],
        e,
      );
    }
  }

  const result = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt,
    seconds: round((performance.now() - t0) / 1000, 1),
    machine,
    rows,
    detail,
  };
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/bench.json', `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(renderTable(result));
}

/** Provisioning + registration + 2 minutes: a job should wait no longer than a machine started for it. */
function autoscaleWaitTarget(): number {
  const { provision, register } = AUTOSCALE_DAY.latency;
  return (provision + register + 2) * 60;
}

function autoscaleRows(m: Measurement): Row[] {
  const w = m.workload!;
  const target = autoscaleWaitTarget();
  const ratio = w.idleInstanceMinutes / w.oracle.idleInstanceMinutes;
  const label = `autoscale day (${AUTOSCALE_DAY.linux + AUTOSCALE_DAY.windows} scale sets, ${w.jobs} jobs)`;
  return [
    {
      metric: `capacity: ${label}, queue wait p95 (p50 ${w.queueWaitSeconds.p50} s, max ${w.queueWaitSeconds.max} s)`,
      value: w.queueWaitSeconds.p95,
      unit: 's',
      target: `≤ ${target}`,
      result: w.queueWaitSeconds.p95 <= target ? 'pass' : 'fail',
      note: `provisioning ${AUTOSCALE_DAY.latency.provision} + registration ${AUTOSCALE_DAY.latency.register} + 2 minutes; ${w.jobsNeverStarted} never started`,
    },
    {
      metric: `capacity: ${label}, idle instance minutes / oracle (${w.idleInstanceMinutes} / ${w.oracle.idleInstanceMinutes})`,
      value: round(ratio),
      unit: '×',
      target: '≤ 1.50',
      result: ratio <= 1.5 ? 'pass' : 'fail',
      note: `busy ${w.busyInstanceMinutes} instance minutes; ${w.scaleOuts} scale-outs, ${w.scaleIns} scale-ins`,
    },
    {
      metric: `capacity: ${label}, jobs interrupted (violations ${m.violations})`,
      value: m.jobsInterrupted,
      unit: '',
      target: '0',
      result: m.jobsInterrupted === 0 && m.violations === 0 ? 'pass' : 'fail',
    },
    rateRow('autoscale day', m),
    {
      metric: `history bound: autoscale day, maxHistoryEvents (${m.maxHistoryInstance})`,
      value: m.maxHistoryEvents,
      unit: 'events',
      target: '≤ 300',
      result: m.maxHistoryEvents <= 300 ? 'pass' : 'fail',
      note: `outcome ${m.outcome}; simulator wall time ${round(m.wallMs / 1000, 1)} s`,
    },
  ];
}

function settled(r: PromiseSettledResult<Measurement | undefined>): Measurement {
  if (r.status === 'rejected') throw r.reason;
  return r.value!;
}

/**
 * A monthly rebuild's time: the whole run over its critical path (the time wasted), and per image how
 * long after its build the last instance ran the new version, against the least it could have been.
 */
function timeRows(label: string, m: Measurement): Row[] {
  const wasted = m.virtualMinutes / m.criticalPathMinutes;
  const rows: Row[] = [
    {
      metric: `time wasted: ${label}, virtual / critical path (${m.virtualMinutes} / ${m.criticalPathMinutes} min)`,
      value: round(wasted),
      unit: '×',
      target: `≤ ${WASTED_TARGET.toFixed(2)}`,
      result: wasted <= WASTED_TARGET ? 'pass' : 'fail',
      note: `outcome ${m.outcome}`,
    },
  ];
  for (const [image, i] of Object.entries(m.images)) {
    const at = i.fleetUpdatedAt?.slice(11, 16) ?? 'never';
    rows.push({
      metric: `time to an updated fleet: ${label}, ${image}: minutes after the build (fleet updated ${at}; at best ${i.lowerBound?.minutesToFleetUpdated ?? '?'} min)`,
      value: i.minutesToFleetUpdated ?? 'never',
      unit: 'min',
      target: '',
      result: 'info',
    });
  }
  return rows;
}

function rateRow(label: string, m: Measurement): Row {
  return {
    metric: `rate limits: ${label}, requests the fake refused`,
    value: m.rateLimited,
    unit: '',
    target: '0',
    result: m.rateLimited === 0 ? 'pass' : 'fail',
  };
}

export function renderTable(r: {
  machine: Record<string, unknown>;
  rows: Row[];
  seconds: number;
  command: string;
}): string {
  const m = r.machine;
  const head = ['metric', 'value', 'target', 'result'];
  const show = (x: Row) =>
    typeof x.value === 'number' && x.unit === '×' ? x.value.toFixed(2) : String(x.value);
  const body = r.rows.map((x) => [
    x.metric,
    `${show(x)}${x.unit && x.value !== 'error' ? ` ${x.unit}` : ''}`,
    x.target || '—',
    x.result,
  ]);
  const lines = [
    `Machine: ${String(m.cpus)} × ${String(m.cpuModel)}, ${String(m.memoryGiB)} GiB, node ${String(m.node)}, ${String(m.platform)}. Command: \`${r.command}\` (${r.seconds} s).`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((cells) => `| ${cells.join(' | ')} |`),
  ];
  const notes = r.rows.filter((x) => x.note).map((x) => `- ${x.metric}: ${x.note}`);
  return `${lines.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
