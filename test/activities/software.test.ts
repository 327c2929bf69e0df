/**
 * Software reports end to end in the fake cloud: the startBuild activity tells the Packer job where
 * the build's report goes, the simulated job stores it (with the scenario's changes) as the Packer
 * identity through the Bicep's roles and the Blob service's faults, and readSoftwareChanges
 * (src/activities/software.ts), through the runtime's real Blob client, answers the new version's
 * report against the promoted one's: only their diff, or what is missing and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStartBuildActivity } from '../../src/activities/rebuild.js';
import { createReadSoftwareChangesActivity } from '../../src/activities/software.js';
import { getRuntime, resetRuntime } from '../../src/functions/runtime.js';
import { parseSoftwareReport, SOFTWARE_REPORT_TAG } from '../../src/domain/software-report.js';
import { fakeSoftwareReport, softwareReportMarkdown } from '../../src/local/fake-cloud/software-reports.js';
import { templateEnv } from '../../src/local/fake-cloud/world.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

const CONTAINER = 'software-reports';
const savedEnv = { ...process.env };

/** A scenario whose Linux builds hold git 3.0.1, no azure-cli and a kubectl the baseline lacks. */
const SCENARIO = parseScenario(
  `
name: software-changes
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.9.1, 2026.10.1], windows: [2026.10.1] }
  versionTags:
    linux: { 2026.10.1: { kiln-runner-version: 2.338.0 } }
images:
  linux:
    changes:
      - { tool: git, to: "3.0.1" }
      - { tool: azure-cli, to: null }
      - { tool: kubectl, to: "1.31.0" }
registration: { github: pat, ado: pat }
`,
  'software-changes.yaml',
);

async function startCloud(extra: Parameters<typeof startTestCloud>[1] = {}): Promise<TestCloud> {
  const t = await startTestCloud(SCENARIO, extra);
  Object.assign(process.env, t.cloud.env, { CLIENT_RETRY_BASE_MS: '0' });
  resetRuntime();
  return t;
}

/** Starts the Linux build of `version` as the rebuild does, and lets it run to its end. */
async function build(t: TestCloud, version: string, runnerVersion = '2.339.0') {
  const started = await createStartBuildActivity(getRuntime())({
    image: 'linux',
    definition: 'linux-agent',
    version,
    runId: `rebuild-linux-${version}`,
    runnerVersion,
  });
  if (!started.ok) throw new Error(started.error.message);
  const execution = t.cloud.world.executions.get(started.value.executionName)!;
  t.advance(SCENARIO.images.linux.buildMinutes + 1);
  expect(execution.status).toBe('Succeeded');
  return { execution, env: templateEnv(execution.template) };
}

const reportEvents = (t: TestCloud) =>
  t.cloud.ledger.events
    .filter((e) => e.service === 'blobs')
    .map((e) => e.message.replace(/job-kiln-packer-\w+/, 'X'));

describe('software reports in the fake cloud, with the Bicep roles', () => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await startCloud();
  });
  afterAll(async () => {
    process.env = savedEnv;
    resetRuntime();
    await t?.close();
  });

  it('the scenario file reads images.linux.changes', () => {
    expect(SCENARIO.images.linux.changes).toEqual([
      { tool: 'git', to: '3.0.1' },
      { tool: 'azure-cli', to: null },
      { tool: 'kubectl', to: '1.31.0' },
    ]);
    expect(SCENARIO.images.windows).not.toHaveProperty('changes');
  });

  it('every existing promoted version starts with its report, named by its kiln-software-report tag', () => {
    for (const [kind, definition, version] of [
      ['linux', 'linux-agent', '2026.9.1'],
      ['linux', 'linux-agent', '2026.10.1'],
      ['windows', 'windows-agent', '2026.10.1'],
    ] as const) {
      const v = t.cloud.world.versions.get(t.cloud.world.versionKey(kind, version))!;
      expect(v.tags[SOFTWARE_REPORT_TAG]).toBe(`${definition}/${version}/software.json`);
      const json = t.cloud.world.blobs.get(CONTAINER, v.tags[SOFTWARE_REPORT_TAG]!)!;
      const report = parseSoftwareReport(json.body.toString(), 'test');
      expect(report.image).toBe(kind);
      expect(t.cloud.world.blobs.get(CONTAINER, `${definition}/${version}/software.md`)?.contentType).toBe(
        'text/markdown',
      );
    }
    // The toolset's tools, named as reports name them; the version's own tag says which runner it baked in.
    const linux = parseSoftwareReport(
      t.cloud.world.blobs.get(CONTAINER, 'linux-agent/2026.10.1/software.json')!.body.toString(),
      'test',
    );
    expect(linux.agent).toEqual({ name: 'actions-runner', version: '2.338.0' });
    expect(linux.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['actions-runner', 'node', 'azure-cli', 'azd', 'git', 'curl', 'jq', 'python']),
    );
    const windows = parseSoftwareReport(
      t.cloud.world.blobs.get(CONTAINER, 'windows-agent/2026.10.1/software.json')!.body.toString(),
      'test',
    );
    expect(windows.agent).toEqual({ name: 'azure-pipelines-agent', version: '4.269.0' });
    expect(windows.tools.find((tool) => tool.name === 'git')).toMatchObject({
      version: '2.52.0.windows.1',
      requested: 'latest',
    });
  });

  it("a build stores its report where startBuild said, and readSoftwareChanges answers only the diff against the promoted version's", async () => {
    const { env } = await build(t, '2026.12.1');
    expect(env.KILN_SOFTWARE_REPORT_URL).toBe(`${t.cloud.urls.blobs}/${CONTAINER}/linux-agent/2026.12.1`);
    expect(t.cloud.world.blobs.list(CONTAINER, 'linux-agent/2026.12.1/')).toEqual([
      'linux-agent/2026.12.1/software.json',
      'linux-agent/2026.12.1/software.md',
    ]);
    expect(reportEvents(t)).toEqual([
      'packer job execution X stored its software report linux-agent/2026.12.1/software.json',
    ]);

    const before = t.cloud.requests.blobs;
    const result = await createReadSoftwareChangesActivity(getRuntime())({
      definition: 'linux-agent',
      builtAs: '2026.12.1',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        configured: true,
        report: 'linux-agent/2026.12.1/software.json',
        agent: { name: 'actions-runner', version: '2.339.0' },
        against: { version: '2026.10.1', report: 'linux-agent/2026.10.1/software.json' },
        changes: [
          { tool: 'actions-runner', from: '2.338.0', to: '2.339.0', kind: 'minor' },
          { tool: 'azure-cli', from: '2.80.0', to: null, kind: 'removed' },
          { tool: 'git', from: '2.34.1', to: '3.0.1', kind: 'major' },
          { tool: 'kubectl', from: null, to: '1.31.0', kind: 'added' },
        ],
      },
    });
    // Two reads through the real Blob client: the new report and the promoted one.
    expect(t.cloud.requests.blobs - before).toBe(2);
  });

  it('the new version has no report: report null, with where it was looked for', async () => {
    const result = await createReadSoftwareChangesActivity(getRuntime())({
      definition: 'linux-agent',
      builtAs: '2026.12.7',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        configured: true,
        report: null,
        note: 'no software report at linux-agent/2026.12.7/software.json',
      },
    });
  });

  it('the promoted version has no kiln-software-report tag: changes [] with a note saying so', async () => {
    const promoted = t.cloud.world.versions.get(t.cloud.world.versionKey('windows', '2026.10.1'))!;
    delete promoted.tags[SOFTWARE_REPORT_TAG];
    const report = fakeSoftwareReport('windows', { generatedAt: '2026-12-01T05:00:00Z' });
    t.cloud.world.blobs.put(
      CONTAINER,
      'windows-agent/2026.12.1/software.json',
      Buffer.from(JSON.stringify(report)),
    );
    t.cloud.world.blobs.put(
      CONTAINER,
      'windows-agent/2026.12.1/software.md',
      Buffer.from(softwareReportMarkdown(report)),
    );
    const result = await createReadSoftwareChangesActivity(getRuntime())({
      definition: 'windows-agent',
      builtAs: '2026.12.1',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        configured: true,
        report: 'windows-agent/2026.12.1/software.json',
        agent: { name: 'azure-pipelines-agent', version: '4.269.0' },
        against: { version: '2026.10.1', report: null },
        changes: [],
        note: 'the promoted version 2026.10.1 has no software report to compare with',
      },
    });
  });

  it('the promoted version names a report that is gone, or one that is not a report: changes [] with the reason', async () => {
    const promoted = t.cloud.world.versions.get(t.cloud.world.versionKey('linux', '2026.10.1'))!;
    promoted.tags[SOFTWARE_REPORT_TAG] = 'linux-agent/2026.10.1/gone.json';
    const read = () =>
      createReadSoftwareChangesActivity(getRuntime())({ definition: 'linux-agent', builtAs: '2026.12.1' });
    expect(await read()).toMatchObject({
      ok: true,
      value: {
        report: 'linux-agent/2026.12.1/software.json',
        against: { version: '2026.10.1', report: null },
        changes: [],
        note: 'the promoted version 2026.10.1: no software report at linux-agent/2026.10.1/gone.json',
      },
    });
    t.cloud.world.blobs.put(CONTAINER, 'linux-agent/2026.10.1/gone.json', Buffer.from('{"schemaVersion":2}'));
    expect(await read()).toMatchObject({
      ok: true,
      value: { changes: [], note: expect.stringMatching(/schemaVersion is 2; kiln reads version 1/) },
    });
    promoted.tags[SOFTWARE_REPORT_TAG] = 'linux-agent/2026.10.1/software.json';
  });

  it('storage unavailable: the activity fails as transient, naming the blob, for the orchestration to retry', async () => {
    t.cloud.addFault({ service: 'blobs', operation: 'getBlob', status: 503, times: 4 });
    const result = await createReadSoftwareChangesActivity(getRuntime())({
      definition: 'linux-agent',
      builtAs: '2026.12.1',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ name: 'TransientError', transient: true });
    expect(result.error.message).toMatch(
      /^read the software reports of linux-agent: blob software-reports\/linux-agent\/2026\.12\.1\/software\.json read failed \(HTTP 503/,
    );
  });

  it("the job's upload meets the Blob service's faults: three tries per file, then the version stays unreported", async () => {
    t.cloud.addFault({ service: 'blobs', operation: 'putBlob', status: 503, times: 2 });
    await build(t, '2026.12.2');
    expect(t.cloud.world.blobs.list(CONTAINER, 'linux-agent/2026.12.2/')).toHaveLength(2);
    t.cloud.addFault({ service: 'blobs', operation: 'putBlob', status: 503, times: 3 });
    await build(t, '2026.12.3');
    expect(t.cloud.world.blobs.list(CONTAINER, 'linux-agent/2026.12.3/')).toEqual([]);
    expect(reportEvents(t).at(-1)).toBe(
      'packer job execution X: WARNING: the software report was not stored: uploading linux-agent/2026.12.3/software.md failed 3 times',
    );
  });
});

describe('without its Storage Blob Data Contributor on the container', () => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await startCloud({ roles: { omit: ['storage > softwareReportsRoles[0]'] } });
  });
  afterAll(async () => {
    process.env = savedEnv;
    resetRuntime();
    await t?.close();
  });

  it('the Packer job is refused its upload: the image is built, without a report, and the refusal recorded', async () => {
    await build(t, '2026.12.1');
    expect(t.cloud.world.blobs.list(CONTAINER, 'linux-agent/2026.12.1/')).toEqual([]);
    expect(t.cloud.access.failures).toEqual([
      expect.objectContaining({
        identity: 'id-kiln-packer',
        action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
        scope: `${t.cloud.world.storageAccountId()}/blobServices/default/containers/${CONTAINER}`,
        code: 'AuthorizationPermissionMismatch',
      }),
    ]);
    expect(reportEvents(t)).toEqual([
      'packer job execution X: WARNING: the software report was not stored: uploading linux-agent/2026.12.1/software.md was refused (AuthorizationPermissionMismatch)',
    ]);
  });
});

describe('without KILN_BLOB_ENDPOINT', () => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await startTestCloud(makeScenario());
    Object.assign(process.env, t.cloud.env, { KILN_BLOB_ENDPOINT: '', CLIENT_RETRY_BASE_MS: '0' });
    resetRuntime();
  });
  afterAll(async () => {
    process.env = savedEnv;
    resetRuntime();
    await t?.close();
  });

  it('the job is told nothing, stores nothing, and readSoftwareChanges says reports are off', async () => {
    expect(getRuntime().softwareReports).toBeUndefined();
    const { env } = await build(t, '2026.12.1');
    expect(env).not.toHaveProperty('KILN_SOFTWARE_REPORT_URL');
    expect(t.cloud.world.blobs.list(CONTAINER, 'linux-agent/2026.12.1/')).toEqual([]);
    expect(
      await createReadSoftwareChangesActivity(getRuntime())({
        definition: 'linux-agent',
        builtAs: '2026.12.1',
      }),
    ).toEqual({
      ok: true,
      value: {
        configured: false,
        report: null,
        note: 'KILN_BLOB_ENDPOINT is not set, so kiln reads no software reports',
      },
    });
  });
});
