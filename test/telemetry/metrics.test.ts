/**
 * kiln's metrics as an operator's collector receives them: real simulations (the app as registered,
 * the real replay engine, the production clients against the fake cloud) export over OTLP/HTTP to a
 * receiver this test starts, and what arrives is compared with the fake world's truth and the
 * simulation report, never with numbers written here. Also: no exporter setting means no export and
 * no error, and the Azure Monitor exporter sends the same metrics as Application Insights takes them.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load-settings.js';
import { daysBetween, newestPromoted } from '../../src/domain/release.js';
import { definitionOfImageReference, versionOfImageReference } from '../../src/domain/rollout.js';
import { getRuntime, resetRuntime } from '../../src/functions/runtime.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import type { ImageKind } from '../../src/local/scenario/types.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { METRICS, type MetricSpec } from '../../src/telemetry/instruments.js';
import { NO_METRICS, rateLimitsOf, startMetrics } from '../../src/telemetry/metrics.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedPoint } from './otlp-receiver.js';

const SIMULATION_MS = 180_000;
const CLIENTS = ['arm', 'github', 'ado'] as const;

/** kiln.api.requests summed by service (the exporter is cumulative: the latest points are totals). */
function requestsByService(receiver: OtlpReceiver): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const p of receiver.latest(METRICS.apiRequests.name))
    totals[String(p.attributes.service)] = (totals[String(p.attributes.service)] ?? 0) + p.value;
  return totals;
}

function only(points: ReceivedPoint[], attributes: Record<string, string>): ReceivedPoint | undefined {
  return points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
}

/** Instances by scale set, image definition, version and model, as the fake world holds them. */
function worldInstances(result: SimulationResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const set of result.cloud.world.scaleSets.values()) {
    if (!set.managed) continue;
    for (const instance of set.instances.values()) {
      const key = [
        set.name,
        definitionOfImageReference(instance.imageId),
        versionOfImageReference(instance.imageId),
        String(instance.latestModelApplied),
      ].join('|');
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** The same, from the last value kiln exported of each kiln.fleet.instances series (0: none left). */
function exportedInstances(receiver: OtlpReceiver): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of receiver.latest(METRICS.fleetInstances.name)) {
    if (p.value === 0) continue;
    const { scale_set, image, version, latest_model } = p.attributes;
    counts[[scale_set, image, version, latest_model].join('|')] = p.value;
  }
  return counts;
}

describe('without an exporter setting', () => {
  it('makes no meter provider, and recording and shutting down are harmless', async () => {
    const settings = loadSettings({
      AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
      KEYVAULT_URL: 'https://kv.example.net',
    });
    expect(settings.telemetry).toEqual({ exportIntervalMs: 60_000 });
    const credential = { getToken: () => Promise.reject(new Error('no credential is asked for')) };
    const metrics = startMetrics(settings.telemetry, credential);
    expect(metrics).toBe(NO_METRICS);
    expect(metrics.exporters).toEqual([]);
    metrics.fleetInstances('vmss-a', [
      {
        instanceId: '0',
        name: 'vmss-a_0',
        computerName: 'a0',
        latestModelApplied: true,
        provisioningState: 'Succeeded',
        imageReferenceId:
          '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/linux-agent/versions/1.2.3',
      },
    ]);
    metrics.ghostsFound('github', 3);
    metrics.ghostRemoved('github');
    metrics.runner({ version: '2.1.0', latest: '2.2.0', daysLeft: -1 });
    metrics.response('github', 200, [['x-ratelimit-remaining', '10']]);
    metrics.failure('arm');
    await expect(metrics.shutdown()).resolves.toBeUndefined();
  });

  it('the app runtime records to nowhere', () => {
    process.env.AZURE_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
    process.env.KEYVAULT_URL = 'https://kv.example.net';
    for (const name of [
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    ])
      delete process.env[name];
    resetRuntime();
    try {
      expect(getRuntime().metrics).toBe(NO_METRICS);
    } finally {
      resetRuntime();
    }
  });
});

describe('rate-limit headers', () => {
  it("reads ARM's remaining reads and writes, and GitHub's and Azure DevOps' remaining per resource", () => {
    expect(
      rateLimitsOf('arm', [
        ['x-ms-ratelimit-remaining-subscription-reads', '249'],
        ['X-Ms-Ratelimit-Remaining-Subscription-Global-Writes', '2999'],
        ['x-ms-ratelimit-remaining-resource', 'Microsoft.Compute/GetVMScaleSet3Min;197'],
        ['x-ms-request-id', '1'],
      ]),
    ).toEqual([
      ['subscription-reads', 249],
      ['subscription-global-writes', 2999],
    ]);
    expect(
      rateLimitsOf('github', [
        ['x-ratelimit-remaining', '4990'],
        ['x-ratelimit-resource', 'search'],
      ]),
    ).toEqual([['search', 4990]]);
    expect(rateLimitsOf('ado', [['X-RateLimit-Remaining', '120']])).toEqual([['core', 120]]);
    expect(rateLimitsOf('github', [['x-ratelimit-remaining', '']])).toEqual([]);
  });
});

describe('a cleanup, exported over OTLP', () => {
  let receiver: OtlpReceiver;
  let result: SimulationResult;
  let truth: Record<string, number>;
  const scenario = loadScenarioFile('scenarios/busy-and-ghosts.yaml');

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    result = await runSimulation(scenario, {
      triggers: ['cleanup'],
      timers: false,
      settings: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      keepRunning: true,
    });
    truth = worldInstances(result);
    // Ends the run as the CLI does: the runtime's last export goes out.
    await result.close();
  }, SIMULATION_MS);
  afterAll(() => receiver?.close());

  it('posts OTLP JSON to /v1/metrics as service kiln', () => {
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(receiver.requests.every((r) => r.path === '/v1/metrics' && r.contentType.includes('json'))).toBe(
      true,
    );
    expect(receiver.resourceAttributes[0]).toMatchObject({ 'service.name': 'kiln' });
  });

  it('sends each metric under its catalogue name, kind, unit and attributes', () => {
    const catalogue = new Map<string, MetricSpec>(Object.values(METRICS).map((m) => [m.name, m]));
    const otlpKind = { gauge: 'gauge', counter: 'sum', histogram: 'histogram' } as const;
    const received = receiver.points();
    expect(received.length).toBeGreaterThan(0);
    for (const point of received) {
      const spec = catalogue.get(point.metric);
      expect(spec, point.metric).toBeDefined();
      expect(point.kind, point.metric).toBe(otlpKind[spec!.kind]);
      expect(point.unit, point.metric).toBe(spec!.unit);
      expect(Object.keys(point.attributes).sort(), point.metric).toEqual([...spec!.attributes].sort());
    }
  });

  it('counts the ghosts the world holds as found, and those the cleanup deleted as removed', () => {
    const found = receiver.latest(METRICS.ghostsFound.name);
    const removed = receiver.latest(METRICS.ghostsRemoved.name);
    expect(scenario.ghosts.github).toBeGreaterThan(0);
    expect(only(found, { fleet: 'github' })?.value).toBe(scenario.ghosts.github);
    expect(only(found, { fleet: 'ado' })?.value).toBe(scenario.ghosts.ado);
    expect(only(removed, { fleet: 'github' })?.value).toBe(result.report.deleted.githubRunners.length);
    expect(only(removed, { fleet: 'ado' })?.value).toBe(result.report.deleted.adoAgents.length);
  });

  it('reports instances per scale set and version as the fake cloud holds them', () => {
    expect(Object.keys(truth).length).toBeGreaterThan(0);
    expect(exportedInstances(receiver)).toEqual(truth);
  });

  it('counts every request each service answered, failures included, as the fake cloud counted them', () => {
    const byService = requestsByService(receiver);
    for (const service of CLIENTS) expect(byService[service], service).toBe(result.report.apiCalls[service]);
    // The scenario makes two GitHub deletes fail with 500 before they succeed.
    const failed = only(receiver.latest(METRICS.apiRequests.name), { service: 'github', status: '500' });
    expect(failed?.value).toBe(result.report.faultsInjected['github:deleteRunner']);
  });

  it("keeps GitHub's rate-limit headroom as its answers state it", () => {
    const core = only(receiver.latest(METRICS.apiRateLimitRemaining.name), {
      service: 'github',
      limit: 'core',
    });
    expect(core).toBeDefined();
    // The fake answers the installation's remaining quota of the hour: kiln's requests used some.
    expect(core!.value).toBeGreaterThanOrEqual(0);
    expect(core!.value).toBeLessThan(5000);
  });
});

describe('a monthly rebuild whose Linux canary is rejected, exported over OTLP', () => {
  let receiver: OtlpReceiver;
  let result: SimulationResult;
  let truth: Record<string, number>;
  let lastWatchAt: string;
  let linuxPublishedAt: number;
  const scenario = loadScenarioFile('scenarios/bad-image.yaml');

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    result = await runSimulation(scenario, {
      settings: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      keepRunning: true,
    });
    truth = worldInstances(result);
    const watch = result.host.runner
      .listInstances()
      .filter((i) => i.name === 'runnerReleaseWatchOrchestrator')
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime))
      .at(-1);
    lastWatchAt = watch!.createdTime;
    const linux = [...result.cloud.world.versions.values()].filter((v) => v.kind === 'linux');
    linuxPublishedAt = newestPromoted(linux)!.publishedDate;
    await result.close();
  }, SIMULATION_MS);
  afterAll(() => receiver?.close());

  const definition = (kind: string) =>
    result.cloud.world
      .definitionId(kind as ImageKind)
      .split('/')
      .at(-1)!;

  it('counts each rebuild by the outcome the report gives it', () => {
    const outcomes = receiver.latest(METRICS.rebuildOutcome.name);
    expect(Object.keys(result.report.images).length).toBe(2);
    for (const [kind, image] of Object.entries(result.report.images))
      expect(only(outcomes, { image: definition(kind), outcome: image.state, trigger: 'timer' })?.value).toBe(
        1,
      );
    expect(outcomes.reduce((n, p) => n + p.value, 0)).toBe(2);
  });

  it('counts the rollback on the scale set the report says was rolled back', () => {
    const rolledBack = Object.entries(result.report.scaleSets).filter(([, s]) => s.state === 'rolledBack');
    expect(rolledBack.length).toBeGreaterThan(0);
    const rollbacks = receiver.latest(METRICS.rolloutRollbacks.name);
    expect(rollbacks.map((p) => [p.attributes.scale_set, p.attributes.version, p.value]).sort()).toEqual(
      rolledBack.map(([name]) => [name, result.report.images.linux!.version, 1]).sort(),
    );
  });

  it("records one rollout duration per rollout of the report, by image, source and state, and each scale set's waves by its state", () => {
    const durations = receiver.latest(METRICS.rolloutDuration.name);
    const expected: Record<string, number> = {};
    for (const r of result.report.rollouts) {
      const key = [r.definition, r.source, r.state].join('|');
      expected[key] = (expected[key] ?? 0) + 1;
    }
    const recorded = Object.fromEntries(
      durations.map((p) => [
        [p.attributes.image, p.attributes.source, p.attributes.state].join('|'),
        p.count,
      ]),
    );
    expect(recorded).toEqual(expected);
    expect(durations.every((p) => p.value > 0)).toBe(true);
    const waves = receiver.latest(METRICS.rolloutWaves.name);
    expect(waves.length).toBeGreaterThan(0);
    for (const p of waves)
      expect(result.report.scaleSets[String(p.attributes.scale_set)]?.state).toBe(p.attributes.state);
  });

  it('records each build as long as the scenario makes it take, and the rebuild as at least that', () => {
    const builds = receiver.latest(METRICS.buildDuration.name);
    const rebuilds = receiver.latest(METRICS.rebuildDuration.name);
    for (const kind of ['linux', 'windows'] as const) {
      const seconds = only(builds, { image: definition(kind) })!.value;
      // The build is polled every minute: it is seen done within a minute of its end.
      expect(seconds).toBeGreaterThanOrEqual(scenario.images[kind].buildMinutes * 60);
      expect(seconds).toBeLessThanOrEqual(scenario.images[kind].buildMinutes * 60 + 60);
      expect(only(rebuilds, { image: definition(kind) })!.value).toBeGreaterThan(seconds);
    }
  });

  it("reports the runner's days left in GitHub's window, from the release the fake publishes", () => {
    const { runnerRelease } = result.cloud.world;
    const [daysLeft] = receiver.latest(METRICS.runnerDaysLeft.name);
    // Every promoted Linux version predates kiln (no kiln-runner-version tag): the baked runner is unknown.
    expect(daysLeft!.value).toBeCloseTo(
      30 - daysBetween(new Date(runnerRelease.publishedAt).toISOString(), lastWatchAt),
      1,
    );
    expect(receiver.latest(METRICS.runnerVersion.name).map((p) => [p.attributes, p.value])).toEqual([
      [{ version: 'unknown', latest: runnerRelease.tag.replace(/^v/, '') }, 1],
    ]);
  });

  it('reports the age of the newest promoted Linux version as of the last gallery read (the runner-release watch)', () => {
    const [age] = receiver
      .latest(METRICS.imageAge.name)
      .filter((p) => p.attributes.image === definition('linux'));
    expect(age!.value).toBeCloseTo(daysBetween(new Date(linuxPublishedAt).toISOString(), lastWatchAt), 1);
  });

  it('reports instances per scale set and version as the fake cloud holds them, and every request', () => {
    expect(exportedInstances(receiver)).toEqual(truth);
    const byService = requestsByService(receiver);
    for (const service of CLIENTS) expect(byService[service], service).toBe(result.report.apiCalls[service]);
  });
});

describe('kiln simulate', () => {
  it(
    'exports its metrics before it exits',
    async () => {
      const receiver = await startOtlpReceiver();
      try {
        const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
          (done) =>
            execFile(
              process.execPath,
              [
                'bin/kiln.js',
                'simulate',
                '--scenario',
                'scenarios/busy-and-ghosts.yaml',
                '--trigger',
                'cleanup',
                '--timers',
                'off',
                '--report',
                'json',
              ],
              {
                env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
                maxBuffer: 64 * 1024 * 1024,
              },
              (error, out, err) =>
                done({
                  code: error ? Number((error as { code?: number }).code ?? 1) : 0,
                  stdout: out,
                  stderr: err,
                }),
            ),
        );
        expect(code, stderr).toBe(0);
        const report = JSON.parse(stdout) as { apiCalls: Record<string, number> };
        const byService = requestsByService(receiver);
        for (const service of CLIENTS) expect(byService[service], service).toBe(report.apiCalls[service]);
      } finally {
        await receiver.close();
      }
    },
    SIMULATION_MS,
  );
});

describe('the Azure Monitor exporter', () => {
  it("sends the metrics to Application Insights' ingestion as MetricData, signed in with kiln's identity", async () => {
    const ca = ensureFakeCa();
    const posts: { path: string; authorization?: string; body: unknown[] }[] = [];
    const ingestion = createServer({ cert: ca.certPem, key: ca.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        posts.push({ path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
    const { port } = ingestion.address() as AddressInfo;
    try {
      const settings = loadSettings({
        AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
        KEYVAULT_URL: 'https://kv.example.net',
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-0000000000a1;IngestionEndpoint=https://127.0.0.1:${port}/`,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
          'ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD',
      });
      const credential = {
        getToken: () =>
          Promise.resolve({ token: 'kiln-identity-token', expiresOnTimestamp: Date.now() + 3600_000 }),
      };
      const metrics = startMetrics(settings.telemetry, credential);
      expect(metrics.exporters).toEqual(['azure-monitor']);
      metrics.rolloutEnded({
        image: 'linux-agent',
        version: '2026.12.1',
        source: 'rebuild',
        state: 'rolledBack',
        seconds: 1440,
        scaleSets: [{ name: 'vmss-gh-linux-weu', state: 'rolledBack', waves: 1 }],
      });
      await metrics.shutdown();

      const track = posts.filter((p) => p.path === '/v2.1/track');
      expect(track.length).toBeGreaterThan(0);
      expect(track.every((p) => p.authorization === 'Bearer kiln-identity-token')).toBe(true);
      const rows = track.flatMap((p) =>
        (
          p.body as {
            data: {
              baseType: string;
              baseData: { metrics: { name: string; value: number }[]; properties: Record<string, string> };
            };
          }[]
        ).map((e) => ({
          type: e.data.baseType,
          ...e.data.baseData.metrics[0]!,
          properties: e.data.baseData.properties,
        })),
      );
      // What the alert rules query: customMetrics rows by name, the attributes in customDimensions.
      expect(rows).toContainEqual(
        expect.objectContaining({
          type: 'MetricData',
          name: METRICS.rolloutRollbacks.name,
          value: 1,
          properties: { image: 'linux-agent', version: '2026.12.1', scale_set: 'vmss-gh-linux-weu' },
        }),
      );
    } finally {
      await new Promise<void>((resolve) => ingestion.close(() => resolve()));
    }
  });
});
