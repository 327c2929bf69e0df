import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalAppHost } from '../../src/local/host/app-host.js';
import { resetRuntime } from '../../src/functions/runtime.js';
import { Orchestrations } from '../../src/names.js';

// POST /api/rebuilds through the local host: validation and one rebuild per image and period (S5).
// The orchestrations are started but not run here (the simulations run them end to end).
let host: LocalAppHost;

beforeAll(async () => {
  Object.assign(process.env, {
    AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
    KEYVAULT_URL: 'https://127.0.0.1:1',
    GITHUB_OWNER: 'acme',
    GITHUB_AUTH: 'pat',
    TARGET_REGIONS: 'westeurope=1,northeurope=1',
  });
  resetRuntime();
  host = await LocalAppHost.start({ clock: new VirtualClock('2026-12-01T03:00:00Z') });
});
afterAll(() => host.close());

/** `origin`: where the request came to (a custom domain, `kiln serve`'s port), as the host gives its URL. */
const post = (body: unknown, origin = 'http://localhost:7071') =>
  host.invokeHttp({
    method: 'POST',
    path: `${origin}/api/rebuilds`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'x-functions-key': host.functionKey },
  });
const rebuilds = () => host.runner.listInstances().filter((i) => i.name === Orchestrations.rebuild);

describe('POST /api/rebuilds', () => {
  it.each([
    ['an unknown image', { images: ['macos'] }, /field "images.0": Invalid enum value/],
    ['no image', { images: [] }, /field "images": must name at least one image/],
    ['a repeated image', { images: ['linux', 'linux'] }, /must not repeat an image/],
    [
      'a malformed runner version',
      { runnerVersion: 'v2.330' },
      /field "runnerVersion": must be a runner version/,
    ],
    ['a malformed checksum', { runnerSha256: 'abc' }, /field "runnerSha256"/],
    ['a wrong type', { dryRun: 'yes' }, /field "dryRun": Expected boolean/],
    ['an unknown field', { force: true }, /unknown field "force"/],
  ])('answers 400 for %s and starts nothing', async (_case, body, message) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(message);
    expect(rebuilds()).toEqual([]);
  });

  it('starts one rebuild per image and period, and answers 409 for a second request (S5)', async () => {
    const first = await post({ images: ['linux'], runnerVersion: '2.331.0', runnerSha256: 'a'.repeat(64) });
    expect(first.status).toBe(202);
    const body = JSON.parse(first.body);
    expect(body.runs).toHaveLength(1);
    expect(body.runs[0]).toMatchObject({ image: 'linux', id: 'rebuild-linux-2026-12', started: true });
    expect(body.runs[0].statusQueryGetUri).toMatch(
      /^http:\/\/localhost:7071\/runtime\/webhooks\/durabletask\/instances\/rebuild-linux-2026-12\?/,
    );
    expect(first.headers.location).toBe(body.runs[0].statusQueryGetUri);
    expect(host.runner.getStatus('rebuild-linux-2026-12')!.input).toMatchObject({
      image: 'linux',
      definition: 'linux-agent',
      trigger: 'http',
      dryRun: false,
      runnerVersion: '2.331.0',
      policy: {
        regions: ['westeurope', 'northeurope'],
        pruneKeep: 3,
        buildTimeoutHours: 8,
        canarySoakMinutes: 30,
      },
    });

    const second = await post({}, 'https://kiln.contoso.example:8443');
    expect(second.status).toBe(409);
    expect(JSON.parse(second.body)).toMatchObject({
      error: 'a rebuild of linux is already running',
      runs: [{ image: 'linux', id: 'rebuild-linux-2026-12' }],
    });
    const running = JSON.parse(second.body).runs[0].statusQueryGetUri;
    expect(running).toMatch(
      /^https:\/\/kiln\.contoso\.example:8443\/runtime\/webhooks\/durabletask\/instances\/rebuild-linux-2026-12\?/,
    );
    expect(second.headers.location).toBe(running);
    expect(rebuilds()).toHaveLength(1);
  });

  it('answers 409 while a rebuild of the image started otherwise still runs (last month, a runner release)', async () => {
    // November's Windows rebuild, with a long build, is still running on December 1st.
    host.runner.startNew(Orchestrations.rebuild, { instanceId: 'rebuild-windows-2026-11', input: {} });
    const response = await post({ images: ['windows'] });
    expect(response.status).toBe(409);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'a rebuild of windows is already running',
      runs: [{ image: 'windows', id: 'rebuild-windows-2026-11' }],
    });
    expect(rebuilds().map((r) => r.instanceId)).not.toContain('rebuild-windows-2026-12');
  });
});
