/**
 * GET /api/images/{image}/{version}/software through the local host over a running fake cloud: a
 * version's software report as its build stored it (JSON or Markdown), found by the version's
 * kiln-software-report tag and read with the app's identity, and each way it can be missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntime } from '../../src/functions/runtime.js';
import { parseSoftwareReport, SOFTWARE_REPORT_TAG } from '../../src/domain/software-report.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';

let sim: SimulationResult;

beforeAll(async () => {
  sim = await runSimulation(
    parseScenario(
      `
version: 1
name: image-software
timers: false
until: 2026-12-01T03:00:00Z
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.9.1, 2026.10.1], windows: [2026.10.1] }
  versionTags:
    linux: { 2026.9.1: { kiln-software-report: "" } }
`,
      'image-software.yaml',
    ),
    { triggers: [], keepRunning: true },
  );
});
afterAll(() => sim?.close());

const get = (path: string, key: string | null = sim.host.functionKey) =>
  sim.host.invokeHttp({ method: 'GET', path, headers: key === null ? {} : { 'x-functions-key': key } });
const errorOf = async (path: string) => {
  const response = await get(path);
  return { status: response.status, error: (JSON.parse(response.body) as { error: string }).error };
};

describe('GET /api/images/{image}/{version}/software', () => {
  it('requires the function key', async () => {
    expect((await get('/api/images/linux/2026.10.1/software', null)).status).toBe(401);
    expect((await get('/api/images/linux/2026.10.1/software', 'wrong')).status).toBe(401);
  });

  it("answers the version's report as stored, by linux, windows or the definition's name", async () => {
    const response = await get('/api/images/linux/2026.10.1/software');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['x-kiln-software-report']).toBe('linux-agent/2026.10.1/software.json');
    const stored = sim.cloud.world.blobs.get('software-reports', 'linux-agent/2026.10.1/software.json')!;
    expect(response.body).toBe(stored.body.toString());
    expect(parseSoftwareReport(response.body, 'answer').agent.name).toBe('actions-runner');

    const byDefinition = await get('/api/images/windows-agent/2026.10.1/software');
    expect(byDefinition.status).toBe(200);
    expect(parseSoftwareReport(byDefinition.body, 'answer')).toMatchObject({
      image: 'windows',
      agent: { name: 'azure-pipelines-agent' },
    });
    expect((await get('/api/images/windows/2026.10.1/software')).body).toBe(byDefinition.body);
  });

  it('answers the Markdown beside it with ?format=md', async () => {
    const response = await get('/api/images/linux/2026.10.1/software?format=md');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(response.headers['x-kiln-software-report']).toBe('linux-agent/2026.10.1/software.md');
    expect(response.body).toMatch(/^# Linux GitHub runner image\n/);
    expect(response.body).toContain('| git | 2.34.1 |');
  });

  it('reads the blob the tag names, through the Blob service, with the app identity', async () => {
    const before = sim.cloud.requestLog.length;
    await get('/api/images/linux/2026.10.1/software');
    const blobs = sim.cloud.requestLog.slice(before).filter((r) => r.service === 'blobs');
    expect(blobs).toEqual([
      { service: 'blobs', method: 'GET', path: '/software-reports/linux-agent/2026.10.1/software.json' },
    ]);
    expect(sim.cloud.access.failures).toEqual([]);
  });

  it.each([
    [
      'an unknown image',
      '/api/images/macos/2026.10.1/software',
      404,
      /^unknown image "macos": one of linux, windows, linux-agent or windows-agent$/,
    ],
    [
      'a version that is no gallery version',
      '/api/images/linux/2026.10/software',
      400,
      /"2026\.10" is not a gallery version/,
    ],
    [
      'a format other than json or md',
      '/api/images/linux/2026.10.1/software?format=html',
      400,
      /^query parameter "format" must be json or md, got "html"$/,
    ],
    [
      'a version the gallery does not have',
      '/api/images/linux/2026.12.9/software',
      404,
      /^no version 2026\.12\.9 of linux-agent in the gallery$/,
    ],
    [
      'a version without a report tag',
      '/api/images/linux/2026.9.1/software',
      404,
      /^linux-agent 2026\.9\.1 has no software report: the version has no kiln-software-report tag/,
    ],
  ])('%s: %i with a clear error', async (_, path, status, message) => {
    const answer = await errorOf(path);
    expect(answer.status).toBe(status);
    expect(answer.error).toMatch(message);
  });

  it('a tag naming a report that is not there: 404 naming the blob', async () => {
    const version = sim.cloud.world.versions.get(sim.cloud.world.versionKey('windows', '2026.10.1'))!;
    const tag = version.tags[SOFTWARE_REPORT_TAG]!;
    version.tags[SOFTWARE_REPORT_TAG] = 'windows-agent/2026.10.1/old/software.json';
    try {
      const answer = await errorOf('/api/images/windows/2026.10.1/software?format=md');
      expect(answer).toEqual({
        status: 404,
        error:
          "windows-agent 2026.10.1: its software report windows-agent/2026.10.1/old/software.md does not exist in software-reports (the version's kiln-software-report tag is windows-agent/2026.10.1/old/software.json)",
      });
    } finally {
      version.tags[SOFTWARE_REPORT_TAG] = tag;
    }
  });

  it('storage unavailable: 503 with the reason and Retry-After', async () => {
    sim.cloud.addFault({ service: 'blobs', operation: 'getBlob', status: 503, times: 4 });
    const response = await get('/api/images/linux/2026.10.1/software');
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(JSON.parse(response.body).error).toMatch(
      /^the software report of linux-agent 2026\.10\.1 cannot be read: blob software-reports\/linux-agent\/2026\.10\.1\/software\.json read failed \(HTTP 503/,
    );
  });

  it('without KILN_BLOB_ENDPOINT: 503 saying reports are off', async () => {
    const endpoint = process.env.KILN_BLOB_ENDPOINT;
    process.env.KILN_BLOB_ENDPOINT = '';
    resetRuntime();
    try {
      expect(await errorOf('/api/images/linux/2026.10.1/software')).toEqual({
        status: 503,
        error:
          'KILN_BLOB_ENDPOINT is not set: kiln stores and reads no software reports (set it to the blob endpoint of the storage account that holds them)',
      });
    } finally {
      process.env.KILN_BLOB_ENDPOINT = endpoint;
      resetRuntime();
    }
  });
});
