import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalAppHost } from '../../src/local/host/app-host.js';
import { resetRuntime } from '../../src/functions/runtime.js';
import { InstanceIds, Orchestrations } from '../../src/names.js';

// POST /api/cleanups through the local host: validation, auth, singleton start. The orchestration
// is started but not run here (the fake-cloud tests run it end to end).
// Each test has its own host, so none depends on what another started.
let host: LocalAppHost;

beforeAll(() => {
  Object.assign(process.env, {
    AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
    KEYVAULT_URL: 'https://127.0.0.1:1',
    GITHUB_OWNER: 'acme',
    GITHUB_AUTH: 'pat',
    OFFLINE_GRACE_MINUTES: '45',
  });
  resetRuntime();
});
afterAll(() => resetRuntime());
beforeEach(async () => {
  host = await LocalAppHost.start({ clock: new VirtualClock('2026-12-01T03:00:00Z') });
});
afterEach(() => host.close());

const post = (body: string | undefined, headers: Record<string, string> = {}) =>
  host.invokeHttp({
    method: 'POST',
    path: '/api/cleanups',
    body,
    headers: { 'x-functions-key': host.functionKey, ...headers },
  });

describe('POST /api/cleanups', () => {
  it.each([
    ['malformed JSON', '{"dryRun": tru', /not valid JSON/],
    ['a wrong type', '{"dryRun": "yes"}', /field "dryRun": Expected boolean, received string/],
    ['an unknown field', '{"dryRun": true, "force": true}', /unknown field "force"/],
    ['an array', '[true]', /must be a JSON object/],
  ])('answers 400 for %s, naming the problem, and starts nothing', async (_case, body, message) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(message);
    expect(host.runner.listInstances()).toEqual([]);
  });

  it('answers 413 for an oversized body', async () => {
    const response = await post(JSON.stringify({ dryRun: true, padding: 'x'.repeat(70_000) }));
    expect(response.status).toBe(413);
    expect(host.runner.listInstances()).toEqual([]);
  });

  it('requires the function key', async () => {
    const response = await host.invokeHttp({ method: 'POST', path: '/api/cleanups', body: '{}' });
    expect(response.status).toBe(401);
    expect((await host.invokeHttp({ method: 'GET', path: '/api/cleanups' })).status).toBe(405);
  });

  it('starts one cleanup with the settings in its input and answers 202 with status URLs', async () => {
    const response = await post('{"dryRun": true}');
    expect(response.status).toBe(202);
    const links = JSON.parse(response.body);
    expect(links.id).toBe(InstanceIds.cleanup);
    expect(links.statusQueryGetUri).toContain(`/instances/${InstanceIds.cleanup}`);
    expect(response.headers.location).toBe(links.statusQueryGetUri);
    const status = host.runner.getStatus(InstanceIds.cleanup)!;
    expect(status.name).toBe(Orchestrations.cleanup);
    expect(status.input).toEqual({
      dryRun: true,
      startedBy: { by: 'http' },
      offlineGraceMinutes: 45,
      bootDeadlineMinutes: 20,
    });
  });

  it('records who started it: the client its User-Agent names, never a credential put there', async () => {
    expect((await post('{"dryRun": true}', { 'user-agent': 'kiln-cli/0.1.0 node/20' })).status).toBe(202);
    expect(host.runner.getStatus(InstanceIds.cleanup)!.input).toMatchObject({
      startedBy: { by: 'http', client: 'kiln-cli/0.1.0' },
    });
    await host.runner.runToCompletion(InstanceIds.cleanup);
    const pat = `ghp_${'a1B2'.repeat(9)}`;
    expect((await post('{"dryRun": true}', { 'user-agent': pat })).status).toBe(202);
    const input = host.runner.getStatus(InstanceIds.cleanup)!.input as { startedBy: unknown };
    expect(input.startedBy).toEqual({ by: 'http' });
  });

  it('answers 409 with the status URL while a cleanup is running (S5)', async () => {
    expect((await post('{"dryRun": true}')).status).toBe(202);
    const response = await post('');
    expect(response.status).toBe(409);
    expect(JSON.parse(response.body)).toMatchObject({
      id: InstanceIds.cleanup,
      statusQueryGetUri: expect.stringContaining(InstanceIds.cleanup),
    });
    expect(host.runner.listInstances()).toHaveLength(1);
  });

  it('answers its status links at the host and port the request came to (202 and 409)', async () => {
    const at = (origin: string) =>
      host.invokeHttp({
        method: 'POST',
        path: `${origin}/api/cleanups`,
        body: '{}',
        headers: { 'x-functions-key': host.functionKey },
      });
    const started = await at('https://kiln.contoso.example');
    expect(started.status).toBe(202);
    const startedLinks = JSON.parse(started.body);
    const running = await at('http://127.0.0.1:45123');
    expect(running.status).toBe(409);
    const runningLinks = JSON.parse(running.body);
    const status = `/runtime/webhooks/durabletask/instances/${InstanceIds.cleanup}?`;
    expect(startedLinks.statusQueryGetUri.startsWith(`https://kiln.contoso.example${status}`)).toBe(true);
    expect(runningLinks.statusQueryGetUri.startsWith(`http://127.0.0.1:45123${status}`)).toBe(true);
    expect(running.headers.location).toBe(runningLinks.statusQueryGetUri);
  });
});
