import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { runSimulation, type SimulationOptions } from '../../src/local/simulate/run-simulation.js';
import { Orchestrations } from '../../src/names.js';

// The image pipeline end to end: the app as registered, on the local durable runner, against the fake cloud.
const SCENARIOS = resolve(process.cwd(), 'scenarios');

async function simulate(scenario: Scenario, options: SimulationOptions = {}) {
  const result = await runSimulation(scenario, { ...options, keepRunning: true });
  await result.close();
  return result;
}

function scenario(overrides: Record<string, unknown>): Scenario {
  return parseScenario(
    JSON.stringify({
      name: 'rebuild',
      timers: false,
      trigger: ['http-rebuild'],
      until: '2026-12-02T12:00:00Z',
      gallery: {
        regions: ['westeurope'],
        existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
      },
      scaleSets: [
        { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2 },
        { name: 'vmss-ado', image: 'windows', region: 'westeurope', capacity: 2 },
      ],
      ...overrides,
    }),
    'inline',
  );
}

const instanceVersions = (cloud: Awaited<ReturnType<typeof simulate>>['cloud'], name: string) =>
  [...cloud.world.scaleSets.get(name)!.instances.values()].map((i) => i.imageId.split('/').at(-1));

describe('monthly rebuild', () => {
  it('monthly-small: both images promoted, every managed scale set on its new version', async () => {
    const { report, cloud } = await simulate(loadScenarioFile(resolve(SCENARIOS, 'monthly-small.yaml')));
    expect(report.outcome).toBe('succeeded');
    // Each build holds what the promoted version holds: no software changes, nothing held. Each fleet
    // ran its new version as soon as it could (build, publish, canary waves and soak, the other scale set).
    const promoted = { version: '2026.12.1', state: 'promoted', regions: ['westeurope'], changes: [] };
    expect(report.images).toEqual({
      linux: {
        ...promoted,
        fleetUpdatedAt: '2026-12-01T04:52:00.000Z',
        minutesToFleetUpdated: 52,
        lowerBound: { fleetUpdatedAt: '2026-12-01T04:52:00.000Z', minutesToFleetUpdated: 52 },
      },
      windows: {
        ...promoted,
        fleetUpdatedAt: '2026-12-01T05:44:00.000Z',
        minutesToFleetUpdated: 44,
        lowerBound: { fleetUpdatedAt: '2026-12-01T05:44:00.000Z', minutesToFleetUpdated: 44 },
      },
    });
    expect(report.virtualMinutes).toBeGreaterThanOrEqual(report.criticalPathMinutes);
    expect(report.scaleSets['vmss-gh-linux-weu']).toMatchObject({
      state: 'updated',
      version: '2026.12.1',
      previousVersion: '2026.10.1',
    });
    expect(report.scaleSets['vmss-ado-win-weu']).toMatchObject({ state: 'updated', version: '2026.12.1' });
    expect(instanceVersions(cloud, 'vmss-gh-linux-weu')).toEqual(['2026.12.1', '2026.12.1', '2026.12.1']);
    // Published excluded from latest, promoted at the end; the intermediate managed image is gone.
    const linux = cloud.world.versions.get(cloud.world.versionKey('linux', '2026.12.1'))!;
    expect(linux.excludeFromLatest).toBe(false);
    expect(linux.tags).toMatchObject({
      'kiln-state': 'promoted',
      'kiln-runner-version': '2.330.0',
      'kiln-run': 'rebuild-linux-2026-12',
    });
    expect(cloud.world.managedImages.size).toBe(0);
    // The Packer job got its whole template: the job's own variables plus this build's, and no secret.
    const execution = [...cloud.world.executions.values()].find((e) => e.kind === 'linux')!;
    const env = Object.fromEntries(
      (
        execution.template as { containers: { env: { name: string; value: string }[] }[] }
      ).containers[0]!.env.map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      KILN_IMAGE: 'linux',
      PACKER_LOCATION: 'westeurope',
      PACKER_IMAGE_RG: 'rg-images',
      PKR_VAR_managed_image_name: 'kiln-linux-2026.12.1',
      PKR_VAR_runner_version: '2.330.0',
    });
    expect(Object.keys(env).some((k) => /PAT|TOKEN|SECRET|PASSWORD/i.test(k))).toBe(false);
    expect(report.virtualMinutes / report.criticalPathMinutes).toBeLessThanOrEqual(1.1);
    expect(report.jobsInterrupted).toBe(0);
  });

  it('bad-image: the Linux version is rejected at canary and never reaches the second scale set; Windows is promoted', async () => {
    const { report, cloud } = await simulate(loadScenarioFile(resolve(SCENARIOS, 'bad-image.yaml')));
    expect(report.images.linux).toMatchObject({ version: '2026.12.1', state: 'rejected' });
    expect(report.images.linux!.reason).toMatch(
      /canary vmss-gh-linux-weu: wave 1: 1 of 1 upgraded instance\(s\) unhealthy/,
    );
    expect(report.images.windows).toMatchObject({ version: '2026.12.1', state: 'promoted' });
    expect(report.scaleSets['vmss-gh-linux-weu']).toMatchObject({
      state: 'rolledBack',
      version: '2026.10.1',
    });
    expect(report.scaleSets['vmss-gh-linux-weu-2']).toMatchObject({
      state: 'untouched',
      version: '2026.10.1',
    });
    expect(instanceVersions(cloud, 'vmss-gh-linux-weu-2')).toEqual(['2026.10.1', '2026.10.1', '2026.10.1']);
    // Rejected for good: deleted once the canary was back, so nothing can ever take it.
    expect(cloud.world.versions.has(cloud.world.versionKey('linux', '2026.12.1'))).toBe(false);
    expect(report.deleted.galleryVersions).toContain('linux-agent/2026.12.1');
    expect(report.images.linux!.reason).toMatch(/version 2026\.12\.1 deleted with its replicas$/);
    expect(report.outcome).toBe('rolledBack');
  });

  it('promotes a version whose canary runners each took a job during the soak (one-job runners gone after it served)', async () => {
    // The Linux canary (vmss-gh) is back on the new version about 110 minutes in and soaks 30 minutes; jobs run on
    // both instances during the soak and their ephemeral JIT runners are removed after them.
    const { report, cloud } = await simulate(
      scenario({
        images: { windows: { buildFails: true } },
        jobs: [
          { instance: 'vmss-gh_0', startAfterMinutes: 115, minutes: 4 },
          { instance: 'vmss-gh_1', startAfterMinutes: 118, minutes: 3 },
        ],
      }),
    );
    const ended = report.events.filter((e) => /ephemeral runner .* removed after its job/.test(e.message));
    expect(ended.length).toBeGreaterThanOrEqual(2);
    expect(report.images.linux).toMatchObject({ state: 'promoted' });
    expect(report.scaleSets['vmss-gh']).toMatchObject({ version: '2026.12.1' });
    expect(cloud.requests.tables).toBeGreaterThan(0);
    expect(report.jobsInterrupted).toBe(0);
  });

  it('fails an image whose build fails, naming the execution, while the other image goes on', async () => {
    const { report } = await simulate(scenario({ images: { linux: { buildFails: true } } }));
    expect(report.images.linux).toMatchObject({ state: 'failed' });
    expect(report.images.linux!.reason).toMatch(
      /the Packer build ended Failed; see the logs of Container Apps execution job-kiln-packer-/,
    );
    expect(report.images.windows).toMatchObject({ state: 'promoted' });
    expect(report.scaleSets['vmss-gh']).toMatchObject({ state: 'untouched', version: '2026.10.1' });
    expect(report.outcome).toBe('failed');
  });

  it('stops a build that runs past BUILD_TIMEOUT_HOURS and fails the image', async () => {
    const { report, cloud } = await simulate(scenario({ images: { linux: { buildMinutes: 180 } } }), {
      settings: { BUILD_TIMEOUT_HOURS: '2' },
    });
    expect(report.images.linux!.state).toBe('failed');
    expect(report.images.linux!.reason).toMatch(
      /ran longer than 2 h and was stopped \(execution job-kiln-packer-/,
    );
    expect([...cloud.world.executions.values()].find((e) => e.kind === 'linux')!.status).toBe('Stopped');
    expect(report.images.windows!.state).toBe('promoted');
  });

  it('retries a failed replication region, and fails the image without promotion when it fails again', async () => {
    const twoRegions = {
      gallery: {
        regions: ['westeurope', 'northeurope'],
        existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
      },
    };
    const once = await simulate(
      scenario({
        ...twoRegions,
        faults: [{ service: 'arm', operation: 'replication', region: 'northeurope', fail: true, times: 1 }],
      }),
    );
    expect(once.report.images.linux).toMatchObject({
      state: 'promoted',
      regions: ['westeurope', 'northeurope'],
    });

    const twice = await simulate(
      scenario({
        ...twoRegions,
        faults: [{ service: 'arm', operation: 'replication', region: 'northeurope', fail: true, times: 4 }],
      }),
    );
    expect(twice.report.images.linux!.state).toBe('failed');
    expect(twice.report.images.linux!.reason).toMatch(
      /replication did not complete in northeurope \(Failed\); the version stays excluded from latest/,
    );
    expect(
      twice.cloud.world.versions.get(twice.cloud.world.versionKey('linux', '2026.12.1'))!.excludeFromLatest,
    ).toBe(true);
    // The canary took the version; the other scale sets never saw it (none here) and nothing was promoted.
    expect(twice.report.outcome).toBe('failed');
  });

  it('replicates to the other regions while the canary proves the version, the canary region first', async () => {
    // Three regions, the canary in the second: the version is published to the build region and the
    // canary's, then to the third while the canary rolls and soaks; promotion waits for both.
    const { report, cloud } = await simulate(
      scenario({
        images: { windows: { buildFails: true } },
        gallery: {
          regions: ['westeurope', 'northeurope', 'swedencentral'],
          existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
        },
        latency: { replication: 40 },
        scaleSets: [
          { name: 'vmss-gh-weu', image: 'linux', region: 'westeurope', capacity: 2 },
          { name: 'vmss-gh-neu', image: 'linux', region: 'northeurope', capacity: 2, canary: true },
          { name: 'vmss-gh-sec', image: 'linux', region: 'swedencentral', capacity: 2 },
        ],
      }),
    );
    expect(report.images.linux).toMatchObject({
      state: 'promoted',
      regions: ['westeurope', 'northeurope', 'swedencentral'],
    });
    const at = (pattern: RegExp) => report.events.find((e) => pattern.test(e.message))?.at ?? '';
    const canaryRegion = at(/replicated linux-agent\/2026\.12\.1 to northeurope/);
    const canaryMoved = at(/model of vmss-gh-neu now linux-agent\/2026\.12\.1/);
    const third = at(/replicated linux-agent\/2026\.12\.1 to swedencentral/);
    const promoted = at(/linux-agent\/2026\.12\.1 excludeFromLatest=false/);
    expect(canaryRegion).not.toBe('');
    expect(canaryMoved >= canaryRegion).toBe(true);
    // The third region replicated while the canary soaked (40 minutes, before its 30-minute soak ended).
    expect(third > canaryMoved).toBe(true);
    expect(Date.parse(third) - Date.parse(canaryMoved)).toBeLessThanOrEqual(40 * 60_000);
    expect(promoted > third).toBe(true);
    for (const name of ['vmss-gh-weu', 'vmss-gh-neu', 'vmss-gh-sec'])
      expect(instanceVersions(cloud, name)).toEqual(['2026.12.1', '2026.12.1']);
    expect(report.virtualMinutes).toBeGreaterThanOrEqual(report.criticalPathMinutes);
    expect(report.violations).toEqual([]);
  });

  it('deletes a version its canary rejects while it still replicates: no replica and no version stay', async () => {
    const { report, cloud } = await simulate(
      scenario({
        images: { linux: { unhealthy: true }, windows: { buildFails: true } },
        gallery: {
          regions: ['westeurope', 'northeurope'],
          existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
        },
        // Replication to the second region takes far longer than the canary needs to reject the version.
        latency: { replication: 120 },
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2, canary: true },
          { name: 'vmss-gh-neu', image: 'linux', region: 'northeurope', capacity: 2 },
        ],
      }),
    );
    expect(report.images.linux).toMatchObject({ state: 'rejected' });
    expect(report.images.linux!.reason).toMatch(/deleted with its replicas$/);
    expect(cloud.world.versions.has(cloud.world.versionKey('linux', '2026.12.1'))).toBe(false);
    const deleted = report.events.find((e) =>
      /deleted gallery version linux-agent\/2026\.12\.1/.test(e.message),
    );
    expect(deleted?.message).toMatch(/replication to northeurope stopped/);
    // No replica was finished after the delete, and the other scale set never saw the version.
    expect(
      report.events.filter(
        (e) => e.at > deleted!.at && /replicated linux-agent\/2026\.12\.1/.test(e.message),
      ),
    ).toEqual([]);
    expect(instanceVersions(cloud, 'vmss-gh-neu')).toEqual(['2026.10.1', '2026.10.1']);
    expect(report.violations).toEqual([]);
  });

  it('keeps a rejected version excluded from latest, and says so, when ARM refuses its delete', async () => {
    const { report, cloud } = await simulate(
      scenario({
        images: { linux: { unhealthy: true }, windows: { buildFails: true } },
        faults: [{ service: 'arm', operation: 'galleryImageVersions.delete', status: 500, persistent: true }],
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2, canary: true },
          { name: 'vmss-gh-2', image: 'linux', region: 'westeurope', capacity: 2 },
        ],
      }),
      { settings: { CLIENT_RETRY_BASE_MS: '1' } },
    );
    expect(report.images.linux).toMatchObject({ state: 'rejected' });
    expect(report.images.linux!.reason).toMatch(/version 2026\.12\.1 stays, excluded from latest \(/);
    expect(report.images.linux!.leftBehind).toEqual([
      expect.stringMatching(/^gallery version 2026\.12\.1 \(excluded from latest\): /),
    ]);
    const kept = cloud.world.versions.get(cloud.world.versionKey('linux', '2026.12.1'))!;
    expect(kept.excludeFromLatest).toBe(true);
    expect(kept.everLatest).toBe(false);
    expect(kept.tags['kiln-state']).toBe('rejected');
    expect(instanceVersions(cloud, 'vmss-gh')).toEqual(['2026.10.1', '2026.10.1']);
    expect(instanceVersions(cloud, 'vmss-gh-2')).toEqual(['2026.10.1', '2026.10.1']);
    expect(report.violations).toEqual([]);
  });

  it('prunes old versions but never a referenced one nor the newest PRUNE_KEEP (S3)', async () => {
    const { report } = await simulate(
      scenario({
        gallery: {
          regions: ['westeurope'],
          existingVersions: {
            linux: ['2026.7.1', '2026.8.1', '2026.9.1', '2026.10.1'],
            windows: ['2026.10.1'],
          },
        },
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2 },
          // Outside kiln's scope but on an old version: it must keep its image.
          {
            name: 'vmss-legacy',
            image: 'linux',
            region: 'westeurope',
            capacity: 1,
            version: '2026.7.1',
            managed: false,
          },
          { name: 'vmss-ado', image: 'windows', region: 'westeurope', capacity: 1 },
        ],
      }),
    );
    expect(report.images.linux!.state).toBe('promoted');
    expect(report.deleted.galleryVersions).toEqual(['linux-agent/2026.8.1']);
    expect(report.scaleSets['vmss-legacy']).toMatchObject({ state: 'untouched', version: '2026.7.1' });
    expect(report.foreignTouched).toBe(0);
  });

  it('keeps every orchestration history under 300 events for a 12-hour build polled every minute', async () => {
    const { report, host } = await simulate(
      scenario({ images: { linux: { buildMinutes: 720 } }, until: '2026-12-03T00:00:00Z' }),
      { settings: { BUILD_TIMEOUT_HOURS: '13' } },
    );
    expect(report.images.linux!.state).toBe('promoted');
    expect(report.maxHistoryEvents).toBeLessThanOrEqual(300);
    const build = host.runner.stats().find((s) => s.instanceId === 'rebuild-linux-2026-12:build')!;
    expect(build.executions).toBeGreaterThan(30);
  });

  it('plans without changing anything in a dry run', async () => {
    const { report, cloud, host } = await simulate(scenario({ dryRun: true }));
    expect(report.outcome).toBe('planned');
    expect(report.images.linux).toMatchObject({ version: '2026.12.1', state: 'planned' });
    expect(cloud.world.executions.size).toBe(0);
    expect(cloud.world.versions.has(cloud.world.versionKey('linux', '2026.12.1'))).toBe(false);
    const plan = host.runner.listInstances().find((i) => i.name === Orchestrations.rebuild)!.output as {
      plan: unknown;
    };
    expect(plan.plan).toEqual({ canary: 'vmss-gh', rollOut: [], prune: [] });
  });
});

describe('runner-release watch', () => {
  const watch = (releaseAgeDays: number) =>
    simulate(
      scenario({ trigger: [], timers: true, start: '2026-12-05T05:55:00Z', until: '2026-12-05T12:00:00Z' }),
      {
        onStart: (cloud) => {
          cloud.world.runnerRelease.publishedAt =
            Date.parse('2026-12-05T05:55:00Z') - releaseAgeDays * 24 * 3600_000;
        },
      },
    );

  it('rebuilds the Linux image with the new runner once the release is older than RUNNER_MAX_AGE_DAYS', async () => {
    const { report, host } = await watch(25);
    const result = host.runner.getStatus('kiln-runner-release-watch')!.output as {
      action: string;
      latest: string;
      rebuild: { instanceId: string; state: string };
    };
    expect(result).toMatchObject({
      action: 'rebuilt',
      latest: '2.330.0',
      rebuild: { instanceId: 'rebuild-linux-2026-12-runner-2.330.0', state: 'promoted' },
    });
    expect(report.images.linux).toMatchObject({ version: '2026.12.1', state: 'promoted' });
    expect(report.images.windows).toBeUndefined();
  });

  it('does nothing while the release is younger', async () => {
    const { report, host } = await watch(10);
    expect(host.runner.getStatus('kiln-runner-release-watch')!.output).toMatchObject({
      action: 'none',
      reason: 'runner 2.330.0 is younger than 21 days',
    });
    expect(report.images).toEqual({});
  });
});
