/**
 * The bad-input matrix (issue 9): every way in — HTTP endpoints, Event Grid, settings, scenario
 * files — refuses bad input with a message naming the problem, and starts nothing.
 * (The per-endpoint tests in test/functions and the parser-level scenario table in
 * test/unit/scenario/errors.test.ts cover single cases; this is the cross-product, printed.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadSettings, SettingsError } from '../../src/config/load-settings.js';
import { SETTINGS, type SettingName } from '../../src/config/settings.js';
import { resetRuntime } from '../../src/functions/runtime.js';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalAppHost } from '../../src/local/host/app-host.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { InstanceIds, Orchestrations } from '../../src/names.js';

const SUB = '00000000-0000-4000-8000-000000000001';
const matrix: { area: string; input: string; passed: boolean; answer: string }[] = [];
afterAll(() => {
  const passed = matrix.filter((m) => m.passed).length;
  const lines = [`bad-input matrix: ${passed}/${matrix.length} cells passed`];
  for (const m of matrix)
    lines.push(
      `  ${m.passed ? 'ok  ' : 'FAIL'} ${m.area.padEnd(22)} ${m.input.padEnd(34)} → ${m.answer.slice(0, 110)}`,
    );
  console.error(lines.join('\n'));
});

// ------------------------------------------------------------------ HTTP endpoints

describe('HTTP endpoints refuse bad requests with a 4xx naming the problem and start nothing', () => {
  let host: LocalAppHost;
  beforeAll(async () => {
    Object.assign(process.env, {
      AZURE_SUBSCRIPTION_ID: SUB,
      KEYVAULT_URL: 'https://127.0.0.1:1',
      GITHUB_OWNER: 'acme',
      GITHUB_AUTH: 'pat',
      GALLERY_RESOURCE_GROUP: 'rg-kiln-images',
      GALLERY_NAME: 'galKiln',
      TARGET_REGIONS: 'westeurope=1',
    });
    resetRuntime();
    host = await LocalAppHost.start({ clock: new VirtualClock('2026-12-01T03:00:00Z') });
  });
  afterAll(() => host.close());

  type Case = [
    input: string,
    body: string,
    headers: 'key' | 'none' | 'wrong',
    status: number,
    message: RegExp,
  ];
  const big = (fields: Record<string, unknown>) =>
    JSON.stringify({ ...fields, padding: 'x'.repeat(65 * 1024) });
  const common = (valid: Record<string, unknown>): Case[] => [
    ['malformed JSON', '{"dryRun": tru', 'key', 400, /request body is not valid JSON/],
    ['a JSON array', '[1, 2]', 'key', 400, /request body must be a JSON object/],
    ['JSON null', 'null', 'key', 400, /request body must be a JSON object/],
    [
      'a wrong type (dryRun "yes")',
      JSON.stringify({ ...valid, dryRun: 'yes' }),
      'key',
      400,
      /field "dryRun": Expected boolean, received string/,
    ],
    ['an unknown field', JSON.stringify({ ...valid, force: true }), 'key', 400, /unknown field "force"/],
    ['two unknown fields', JSON.stringify({ ...valid, a: 1, b: 2 }), 'key', 400, /unknown fields "a", "b"/],
    ['a body over 64 KiB', big(valid), 'key', 413, /request body is larger than 65536 bytes/],
    ['no function key', JSON.stringify(valid), 'none', 401, /function key is required/],
    ['a wrong function key', JSON.stringify(valid), 'wrong', 401, /function key is required/],
  ];
  const endpoints: Record<string, Case[]> = {
    '/api/cleanups': [...common({})],
    '/api/rollouts': [
      ...common({ image: 'linux', version: '2026.12.1' }),
      [
        'an unknown image',
        JSON.stringify({ image: 'macos', version: '2026.12.1' }),
        'key',
        400,
        /field "image": unknown image "macos"/,
      ],
      ['no version', JSON.stringify({ image: 'linux' }), 'key', 400, /field "version": Required/],
      [
        'a version as a number',
        JSON.stringify({ image: 'linux', version: 2026.12 }),
        'key',
        400,
        /field "version": Expected string, received number/,
      ],
      [
        'a malformed version',
        JSON.stringify({ image: 'linux', version: 'latest' }),
        'key',
        400,
        /field "version": must be a gallery version name/,
      ],
      [
        'scaleSets not a list',
        JSON.stringify({ image: 'linux', version: '2026.12.1', scaleSets: 'vmss-a' }),
        'key',
        400,
        /field "scaleSets": Expected array/,
      ],
      [
        'batchPercent out of range',
        JSON.stringify({ image: 'linux', version: '2026.12.1', batchPercent: 101 }),
        'key',
        400,
        /field "batchPercent"/,
      ],
    ],
    '/api/rebuilds': [
      ...common({ images: ['linux'] }),
      [
        'an unknown image',
        JSON.stringify({ images: ['macos'] }),
        'key',
        400,
        /field "images.0": Invalid enum value/,
      ],
      [
        'images not a list',
        JSON.stringify({ images: 'linux' }),
        'key',
        400,
        /field "images": Expected array, received string/,
      ],
      [
        'a malformed runner version',
        JSON.stringify({ runnerVersion: 2 }),
        'key',
        400,
        /field "runnerVersion"/,
      ],
      [
        'a malformed agent version',
        JSON.stringify({ agentVersion: 'v4' }),
        'key',
        400,
        /field "agentVersion"/,
      ],
    ],
  };

  for (const [path, cases] of Object.entries(endpoints)) {
    it.each(cases)(`POST ${path}: %s`, async (input, body, key, status, message) => {
      const before = host.runner.listInstances().length;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key === 'key') headers['x-functions-key'] = host.functionKey;
      if (key === 'wrong') headers['x-functions-key'] = `${host.functionKey}x`;
      const response = await host.invokeHttp({ method: 'POST', path, body, headers });
      const error = String((JSON.parse(response.body) as { error?: string }).error ?? response.body);
      const passed =
        response.status === status && message.test(error) && host.runner.listInstances().length === before;
      matrix.push({ area: `POST ${path}`, input, passed, answer: `${response.status} ${error}` });
      expect(response.status).toBe(status);
      expect(error).toMatch(message);
      expect(host.runner.listInstances()).toHaveLength(before);
    });
  }

  // Event Grid: the cases test/functions/rollout-triggers.test.ts does not have.
  const versionId = (version: string, definition = 'linux-agent', gallery = 'galKiln', sub = SUB) =>
    `/subscriptions/${sub}/resourceGroups/rg-kiln-images/providers/Microsoft.Compute/galleries/${gallery}/images/${definition}/versions/${version}`;
  const write = (subject: unknown, extra: Record<string, unknown> = {}) => ({
    id: `e-${Math.random()}`,
    subject,
    eventType: 'Microsoft.Resources.ResourceWriteSuccess',
    eventTime: '2026-12-01T03:00:00Z',
    data: { resourceUri: subject, status: 'Succeeded' },
    dataVersion: '2',
    metadataVersion: '1',
    ...extra,
  });
  it.each([
    ['not an object', 'hello'],
    ['null', null],
    ['no subject', write(undefined)],
    ['a subject that is a number', write(42)],
    [
      'a write failure',
      write(versionId('2026.12.7'), { eventType: 'Microsoft.Resources.ResourceWriteFailure' }),
    ],
    [
      'an action event',
      write(versionId('2026.12.7'), { eventType: 'Microsoft.Resources.ResourceActionSuccess' }),
    ],
    ['the image definition, not a version', write(versionId('x').replace(/\/versions\/x$/, ''))],
    [
      'a scale set write',
      write(
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-a`,
      ),
    ],
    ['a version name "latest"', write(versionId('latest'))],
    ['a two-part version', write(versionId('2026.12'))],
    ['a trailing slash', write(`${versionId('2026.12.7')}/`)],
    ['a version subresource', write(`${versionId('2026.12.7')}/extra`)],
    [
      'another subscription',
      write(versionId('2026.12.7', 'linux-agent', 'galKiln', '00000000-0000-4000-8000-000000000999')),
    ],
    ['another gallery', write(versionId('2026.12.7', 'linux-agent', 'galOther'))],
    [
      'the validation handshake (CloudEvents schema)',
      {
        id: 'v2',
        type: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        source: 'x',
        data: { validationCode: 'abc' },
      },
    ],
    ['a 10 KiB subject', write(`/subscriptions/${'x'.repeat(10_000)}`)],
  ])('Event Grid: acknowledges and ignores %s', async (input, event) => {
    const before = host.runner.listInstances().length;
    let error: unknown;
    await host.deliverEvent('galleryVersionEvents', event).catch((e: unknown) => (error = e));
    const passed = error === undefined && host.runner.listInstances().length === before;
    matrix.push({
      area: 'Event Grid',
      input,
      passed,
      answer: error ? `threw ${String(error)}` : 'acknowledged, nothing started',
    });
    expect(error).toBeUndefined();
    expect(host.runner.listInstances()).toHaveLength(before);
  });

  it('Event Grid: a CloudEvents-schema write starts one rollout; its duplicates in either schema start nothing', async () => {
    const subject = versionId('2026.12.11');
    const id = InstanceIds.rollout('linux-agent', '2026.12.11');
    const cloudEvent = {
      id: 'c1',
      type: 'Microsoft.Resources.ResourceWriteSuccess',
      source: '/x',
      subject,
      data: {},
    };
    await host.deliverEvent('galleryVersionEvents', cloudEvent);
    await host.deliverEvent(
      'galleryVersionEvents',
      write(subject.toUpperCase().replace('/VERSIONS/', '/versions/')),
    );
    await host.deliverEvent('galleryVersionEvents', cloudEvent);
    const started = host.runner
      .listInstances()
      .filter((i) => i.name === Orchestrations.rollout && i.instanceId === id);
    matrix.push({
      area: 'Event Grid',
      input: 'duplicates, CloudEvents + upper case',
      passed: started.length === 1,
      answer: `${started.length} rollout(s)`,
    });
    expect(started).toHaveLength(1);
  });
});

// ------------------------------------------------------------------ Event Grid end to end

describe('Event Grid deliveries that repeat and arrive out of order, end to end', () => {
  it('a new version and, while it replicates, late copies of it and an event for an older version: one rollout each, the fleet ends on the newer', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'eventgrid-out-of-order',
        timers: false,
        trigger: ['eventgrid'],
        until: '2026-12-02T00:00:00Z',
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
        },
        scaleSets: [{ name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 3 }],
        // 2026.12.9 replicates for 30 min; its copies and a late event for 2026.9.1 arrive meanwhile.
        latency: { replication: 30 },
        eventgrid: { version: { image: 'linux', version: '2026.12.9' }, duplicates: 4 },
      }),
      'inline',
    );
    const result = await runSimulation(scenario, { keepRunning: true });
    try {
      const { report, cloud, host } = result;
      const rollouts = host.runner
        .listInstances()
        .filter((i) => i.name === Orchestrations.rollout)
        .map((i) => i.instanceId)
        .sort();
      const versions = [...cloud.world.scaleSets.get('vmss-gh')!.instances.values()].map((i) =>
        i.imageId.split('/').at(-1),
      );
      const passed =
        rollouts.length === 2 &&
        cloud.scaleSetVersion('vmss-gh') === '2026.12.9' &&
        versions.every((v) => v === '2026.12.9') &&
        report.jobsInterrupted === 0;
      matrix.push({
        area: 'Event Grid e2e',
        input: '4 copies of 12.9 + late 9.1',
        passed,
        answer: `rollouts ${rollouts.join(', ')}; model ${cloud.scaleSetVersion('vmss-gh')}; instances ${versions.join(',')}`,
      });
      expect(rollouts).toEqual([
        InstanceIds.rollout('linux-agent', '2026.12.9'),
        InstanceIds.rollout('linux-agent', '2026.9.1'),
      ]);
      expect(report.rollouts.find((r) => r.version === '2026.9.1')?.state).toBe('skipped');
      expect(cloud.scaleSetVersion('vmss-gh')).toBe('2026.12.9');
      expect(versions).toEqual(['2026.12.9', '2026.12.9', '2026.12.9']);
      expect(report.jobsInterrupted).toBe(0);
      expect(report.foreignTouched).toBe(0);
    } finally {
      await result.close();
    }
  });
});

// ------------------------------------------------------------------ settings

describe('settings: every problem at once, each naming its setting', () => {
  const VALID = {
    AZURE_SUBSCRIPTION_ID: SUB,
    KEYVAULT_URL: 'https://kv-test.vault.azure.net',
    GITHUB_OWNER: 'acme',
    GITHUB_APP_ID: '12345',
  };
  /** A wrong value for every setting that can be wrong; the others take any text. */
  const BAD: Partial<Record<SettingName, string>> = {
    AZURE_SUBSCRIPTION_ID: 'my-subscription',
    ARM_ENDPOINT: 'http://management.azure.com',
    KILN_TASK_HUB: '1-hub',
    DRY_RUN: 'maybe',
    MANAGED_TAG: 'kiln-managed',
    CANARY_TAG: 'a=b=c',
    KEYVAULT_URL: 'kv-kiln-prod',
    GITHUB_API_URL: 'ftp://github.example',
    GITHUB_SCOPE: 'team',
    GITHUB_AUTH: 'oauth',
    GITHUB_WRITE_INTERVAL_MS: '-1',
    CLIENT_RETRY_BASE_MS: '-1',
    CLIENT_ATTEMPT_TIMEOUT_MS: '0',
    CLIENT_REQUEST_TIMEOUT_MS: '600000',
    ARM_MAX_RETRIES: 'forever',
    GITHUB_MAX_RETRIES: '2.5',
    ADO_MAX_RETRIES: '-3',
    GITHUB_APP_ID: 'kiln-app',
    GITHUB_APP_INSTALLATION_ID: 'abc',
    ADO_ORG_URL: 'http://dev.azure.com/acme',
    ADO_AUTH: 'basic',
    CLEANUP_SCHEDULE: '*/15 * * * *',
    REBUILD_SCHEDULE: 'monthly',
    AUTOSCALE_SCHEDULE: 'every minute',
    RUNNER_RELEASE_SCHEDULE: '0 0 6 * *',
    OFFLINE_GRACE_MINUTES: '0',
    BOOT_DEADLINE_MINUTES: 'soon',
    TARGET_REGIONS: 'west europe',
    BUILD_TIMEOUT_HOURS: '-2',
    CANARY_SOAK_MINUTES: '1.5',
    PROMOTION_GATE: 'major,huge',
    APPROVAL_TIMEOUT_HOURS: '0',
    PRUNE_KEEP: 'all',
    RUNNER_MAX_AGE_DAYS: '0',
    IMAGE_EOL_DAYS: 'never',
    AGENT_VERSION: 'v4',
    AZURE_TENANT_ID: 'contoso tenant',
    AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.com',
    KILN_REGISTRATION_RATE_PER_MINUTE: '0',
    KILN_TABLE_ENDPOINT: 'http://stkiln.table.core.windows.net',
    KILN_REGISTRATION_TABLE: 'kiln-registrations',
    KILN_RUN_HISTORY_TABLE: 'kiln_runs',
    KILN_LEASE_TABLE: 'kiln-leases',
    KILN_JOB_DEMAND_TABLE: 'job-demand',
    RUN_HISTORY_DAYS: '0',
    KILN_BLOB_ENDPOINT: 'http://stkiln.blob.core.windows.net',
    KILN_SOFTWARE_REPORTS_CONTAINER: 'Software_Reports',
    GITHUB_RUNNER_GROUP_ID: 'default',
    GITHUB_RUNNER_LABELS: ',',
    APPLICATIONINSIGHTS_CONNECTION_STRING:
      'IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key',
    OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector/v1/metrics',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
  };
  /** Free text (names, ids, secrets' names): nothing to validate beyond "not blank" where a default exists. */
  const FREE_TEXT: SettingName[] = [
    'AZURE_CLIENT_ID',
    'ARM_AUDIENCE',
    'SCALE_SET_IDS',
    'GITHUB_OWNER',
    'GITHUB_REPO',
    'GITHUB_APP_KEY_SECRET',
    'GITHUB_PAT_SECRET',
    'GITHUB_WEBHOOK_SECRET_NAME',
    'ADO_POOL',
    'ADO_PAT_SECRET',
    'GALLERY_RESOURCE_GROUP',
    'GALLERY_NAME',
    'LINUX_IMAGE_DEFINITION',
    'WINDOWS_IMAGE_DEFINITION',
    'PACKER_JOB_ID',
    'PACKER_JOB_CLIENT_ID',
    'PACKER_JOB_IMAGE',
    'PACKER_IMAGE_RG',
    'PACKER_TEMP_RG',
    'PACKER_VM_SIZE',
    'TAG_ORG',
    'TAG_ENV',
    'KILN_REGISTRATION_AUDIENCE',
  ];
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadSettings(env);
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      return (error as SettingsError).problems;
    }
  };

  it('every setting is either validated here or free text', () => {
    expect([...Object.keys(BAD), ...FREE_TEXT].sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it.each(Object.entries(BAD))('%s=%j alone: one problem naming it, with an example', (name, value) => {
    const problems = problemsOf({ ...VALID, [name]: value });
    const passed = problems.length === 1 && problems[0]!.setting === name && problems[0]!.example !== '';
    matrix.push({
      area: 'settings',
      input: `${name}=${value}`,
      passed,
      answer: problems.map((p) => `${p.setting}: ${p.problem}`).join('; '),
    });
    expect(problems.map((p) => p.setting)).toEqual([name]);
    expect(problems[0]!.problem).not.toBe('');
    expect(problems[0]!.example).not.toBe('');
  });

  it('all of them wrong at once: one error listing every one, in table order', () => {
    let error: SettingsError | undefined;
    try {
      loadSettings({ ...BAD });
    } catch (e) {
      error = e as SettingsError;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const names = Object.keys(SETTINGS).filter((n) => n in BAD);
    expect(error!.problems.map((p) => p.setting)).toEqual(names);
    for (const name of names) expect(error!.message).toContain(`  - ${name}: `);
    matrix.push({
      area: 'settings',
      input: `all ${names.length} wrong at once`,
      passed: true,
      answer: `one SettingsError, ${error!.problems.length} problems`,
    });
  });

  it('every required setting missing: one error listing all of them', () => {
    const problems = problemsOf({ GITHUB_OWNER: 'acme', GITHUB_SCOPE: 'repo', GITHUB_AUTH: 'app' });
    expect(problems.map((p) => `${p.setting}: ${p.problem}`)).toEqual([
      'AZURE_SUBSCRIPTION_ID: is required but not set',
      'KEYVAULT_URL: is required but not set',
      'GITHUB_REPO: is required when GITHUB_SCOPE=repo',
      'GITHUB_APP_ID: is required when GITHUB_AUTH=app',
    ]);
    matrix.push({
      area: 'settings',
      input: 'every required setting missing',
      passed: true,
      answer: `${problems.length} problems in one error`,
    });
  });

  it('a secret-looking value is masked in the message', () => {
    const problems = problemsOf({ ...VALID, GITHUB_APP_ID: 'ghp_notanidbutatoken1234' });
    expect(problems[0]!.problem).not.toContain('ghp_notanidbutatoken1234');
  });
});

// ------------------------------------------------------------------ scenario files through the CLI

describe('kiln simulate with a bad scenario file exits 2 naming the field', () => {
  const BASE = {
    version: 1,
    name: 'base',
    trigger: ['eventgrid'],
    gallery: { regions: ['westeurope'], existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] } },
    scaleSets: [{ name: 'lin', image: 'linux', region: 'westeurope', capacity: 2 }],
    eventgrid: { version: { image: 'linux', version: '2026.12.1' } },
  };
  // Cases reach into parsed JSON of any shape to break one field: loose on purpose.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type AnyRecord = Record<string, any>;
  const cases: [string, (s: AnyRecord) => void, string][] = [
    ['version', (s) => (s.version = 2), 'version'],
    ['name', (s) => (s.name = 7), 'name'],
    ['start', (s) => (s.start = 'yesterday'), 'start'],
    ['until', (s) => (s.until = '2020-01-01T00:00:00Z'), 'until'],
    ['timers', (s) => (s.timers = 'on'), 'timers'],
    ['trigger', (s) => (s.trigger = ['deploy']), 'trigger[0]'],
    ['dryRun', (s) => (s.dryRun = 'no'), 'dryRun'],
    ['gallery.regions', (s) => (s.gallery.regions = ['West Europe']), 'gallery.regions[0]'],
    [
      'gallery.existingVersions',
      (s) => (s.gallery.existingVersions.linux = ['2026.10']),
      'gallery.existingVersions.linux[0]',
    ],
    ['images', (s) => (s.images = { linux: { buildMinutes: -1 } }), 'images.linux.buildMinutes'],
    ['scaleSets[].image', (s) => (s.scaleSets[0].image = 'macos'), 'scaleSets[0].image'],
    ['scaleSets[].region', (s) => (s.scaleSets[0].region = 'mars'), 'scaleSets[0].region'],
    ['scaleSets[].capacity', (s) => (s.scaleSets[0].capacity = 'two'), 'scaleSets[0].capacity'],
    ['jobs[].instance', (s) => (s.jobs = [{ instance: 'nope_9', minutes: 5 }]), 'jobs[0].instance'],
    ['ghosts', (s) => (s.ghosts = { github: -3 }), 'ghosts.github'],
    ['foreign', (s) => (s.foreign = { ado: 'some' }), 'foreign.ado'],
    ['latency', (s) => (s.latency = { reimage: 'slow' }), 'latency.reimage'],
    [
      'faults[].service',
      (s) => (s.faults = [{ service: 'aws', operation: 'x', status: 500 }]),
      'faults[0].service',
    ],
    ['eventgrid.version', (s) => (s.eventgrid.version.version = 'latest'), 'eventgrid.version.version'],
    ['eventgrid.duplicates', (s) => (s.eventgrid.duplicates = 0), 'eventgrid.duplicates'],
    ['an unknown key', (s) => (s.colour = 'blue'), 'colour'],
  ];

  it('the base scenario is valid', () => {
    expect(parseScenario(JSON.stringify(BASE), 'base.json').name).toBe('base');
  });

  // In-process (the command's own entry point, as bin/kiln.js calls it): 22 child processes that each
  // load tsx would take minutes on a small machine; test/cli/simulate.test.ts runs the binary itself.
  it.each(cases)('%s', async (label, change, field) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bad-scenario-'));
    const copy = structuredClone(BASE) as AnyRecord;
    change(copy);
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify(copy, null, 2));
    const { code, stdout, stderr } = await kiln(['simulate', '--scenario', file]);
    const escaped = field.replace(/[.[\]]/g, (c) => `\\${c}`);
    const named = new RegExp(`^  - ${escaped}[ :(]`, 'm').test(stderr);
    matrix.push({
      area: 'scenario file (CLI)',
      input: label,
      passed: code === 2 && stdout === '' && named,
      answer: `exit ${code}: ${stderr.split('\n').find((l) => l.startsWith('  - ')) ?? stderr}`,
    });
    expect(code, stderr).toBe(2);
    expect(stdout).toBe('');
    expect(named, stderr).toBe(true);
  });
});

/** Runs `kiln …` through the CLI's entry point, capturing what it writes. */
async function kiln(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
