import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../src/local/azurite.js';
import { kiln, startServe, type Served } from './serve-helper.js';

// `kiln serve` as a user runs it: a child process serving the app over real HTTP on 127.0.0.1,
// the Event Grid webhook with its handshake, and a clean stop by PID.
const FIXTURE = resolve('test/cli/fixtures/serve-rollout.yaml');
const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'reference', 'api-examples', 'eventgrid');
let served: Served;

beforeAll(async () => {
  served = await startServe(['--scenario', FIXTURE, '--speed', '600']);
});
afterAll(async () => {
  await served?.stop();
});

describe('kiln serve: arguments', () => {
  it('prints its help with examples', async () => {
    const { code, stdout } = await kiln(['serve', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('kiln serve --scenario scenarios/monthly-small.yaml --port 8080 --speed 60');
    expect(stdout).toMatch(/^ {2}0 {4}stopped by Ctrl\+C or SIGTERM$/m);
    expect((await kiln(['help', 'serve'])).stdout).toBe(stdout);
  });

  it.each([
    [['--speed', '0'], /--speed must be a number above 0/],
    [['--speed', 'fast'], /--speed must be a number/],
    [['--port', '70000'], /--port must be a port number/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--scenario', 'no-such-file.yaml'], /no-such-file\.yaml/],
    [['--table-storage', 'disk'], /--table-storage must be azurite or fake, not "disk"/],
  ])('exits 2 for %j', async (args, message) => {
    const { code, stderr } = await kiln(['serve', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 listing every bad setting instead of serving', async () => {
    const env = { ...process.env, PRUNE_KEEP: '0', BUILD_TIMEOUT_HOURS: 'soon' };
    const { code, stdout, stderr } = await kiln(['serve', '--scenario', FIXTURE, '--port', '0'], env);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^kiln serve: kiln settings are invalid \(2 problems\):\n/);
    expect(stderr).toMatch(/ {2}- BUILD_TIMEOUT_HOURS: .*\(got "soon"\)/);
    expect(stderr).toMatch(/ {2}- PRUNE_KEEP: .*\(got "0"\)/);
  });

  it('exits 1 when the port is taken', async () => {
    const port = new URL(served.url).port;
    const { code, stderr } = await kiln(['serve', '--scenario', FIXTURE, '--port', port]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
  });
});

describe('kiln serve: the app over HTTP', () => {
  it("serves the registration broker to a runner VM's token from the VM's own IMDS", async () => {
    const imds = `${served.imds.replace('VM_NAME', 'vmss-gh-linux-weu_0')}?api-version=2018-02-01&resource=${encodeURIComponent(served.registrationAudience)}`;
    const token = (
      (await (await fetch(imds, { headers: { Metadata: 'true' } })).json()) as { access_token: string }
    ).access_token;
    const attested = `${served.imdsAttested.replace('VM_NAME', 'vmss-gh-linux-weu_0')}?api-version=2018-10-01&nonce=0123456789`;
    const attestedDocument = (
      (await (await fetch(attested, { headers: { Metadata: 'true' } })).json()) as { signature: string }
    ).signature;
    const post = (authorization?: string) =>
      fetch(`${served.url}/api/registrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ instance: 'nosuch', attestedDocument }),
      });
    expect((await post()).status).toBe(401);
    // The token verifies; the instance is not in the VM's scale set.
    const refused = await post(`Bearer ${token}`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/no instance named nosuch/);
  });

  it('serves the routes as registered, behind the function key', async () => {
    expect((await fetch(`${served.url}/api/fleet`)).status).toBe(401);
    const fleet = await fetch(`${served.url}/api/fleet`, { headers: { 'x-functions-key': served.key } });
    expect(fleet.status).toBe(200);
    const body = (await fleet.json()) as { scaleSets: { name: string }[] };
    expect(body.scaleSets.map((s) => s.name).sort()).toEqual([
      'vmss-ado-win-weu',
      'vmss-gh-linux-neu',
      'vmss-gh-linux-weu',
    ]);
    const page = await fetch(served.dashboard);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await fetch(`${served.url}/nothing`)).status).toBe(404);
  });

  it('runs the clock: a cleanup started over HTTP ends and its status link works', async () => {
    const start = await fetch(`${served.url}/api/cleanups`, {
      method: 'POST',
      headers: { 'x-functions-key': served.key },
      body: '{"dryRun": true}',
    });
    expect(start.status).toBe(202);
    const links = (await start.json()) as { id: string; statusQueryGetUri: string };
    expect(links.statusQueryGetUri.startsWith(`${served.url}/runtime/webhooks/durabletask/instances/`)).toBe(
      true,
    );
    // kiln status --follow returns when the run ends: the test waits on that, not on sleeps of its own.
    const followed = await kiln([
      'status',
      links.id,
      '--app',
      served.url,
      '--key',
      served.key,
      '--follow',
      '--json',
    ]);
    expect(followed.code).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({ id: links.id, status: 'Completed' });
    const status = (await (await fetch(links.statusQueryGetUri)).json()) as { runtimeStatus?: string };
    expect(status.runtimeStatus).toBe('Completed');
    expect((await fetch(links.statusQueryGetUri.replace(/code=[^&]+/, 'code=wrong'))).status).toBe(401);
  });

  it('answers the Event Grid subscription validation handshake', async () => {
    const response = await fetch(served.eventGrid, {
      method: 'POST',
      headers: { 'aeg-event-type': 'SubscriptionValidation', 'content-type': 'application/json' },
      body: readFileSync(resolve(EXAMPLES, 'SubscriptionValidationEvent.json'), 'utf8'),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(
      JSON.parse(readFileSync(resolve(EXAMPLES, 'SubscriptionValidationResponse.json'), 'utf8')),
    );
  });

  it('delivers notifications to the function (202) and refuses what the extension refuses', async () => {
    const event = JSON.parse(
      readFileSync(resolve(EXAMPLES, 'ResourceWriteSuccess.eventgrid-schema.json'), 'utf8'),
    );
    const post = (url: string, headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(event),
      });
    // An unrelated resource's write event is delivered, logged and acknowledged by the function.
    expect((await post(served.eventGrid, { 'aeg-event-type': 'Notification' })).status).toBe(202);
    expect((await post(served.eventGrid, { 'aeg-event-type': 'Bogus' })).status).toBe(400);
    expect(
      (await post(served.eventGrid.replace(/code=[^&]+/, 'code=wrong'), { 'aeg-event-type': 'Notification' }))
        .status,
    ).toBe(401);
    expect(
      (
        await post(served.eventGrid.replace('galleryVersionEvents', 'nope'), {
          'aeg-event-type': 'Notification',
        })
      ).status,
    ).toBe(404);
    const options = await fetch(served.eventGrid, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' },
    });
    expect(options.status).toBe(200);
    expect(options.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
  });

  it('stops on SIGTERM, exiting 0, closing the port and stopping the Azurite it started', async () => {
    const other = await startServe(['--scenario', FIXTURE]);
    expect((await fetch(`${other.url}/api/runs`, { headers: { 'x-functions-key': other.key } })).status).toBe(
      200,
    );
    expect(alive(other.azuritePid!)).toBe(true);
    expect(await other.stop()).toBe(0);
    expect(other.stderr()).toContain('kiln serve: stopped');
    await expect(fetch(`${other.url}/api/runs`)).rejects.toThrow();
    expect(alive(other.azuritePid!)).toBe(false);
  });
});

describe("kiln serve: the app's tables", () => {
  const key = (s: Served) => ({ 'x-functions-key': s.key });
  /** Starts a dry-run cleanup, waits for it through kiln status --follow, and answers GET /api/runs. */
  async function cleanUpAndList(s: Served) {
    const start = await fetch(`${s.url}/api/cleanups`, {
      method: 'POST',
      headers: key(s),
      body: '{"dryRun":true}',
    });
    expect(start.status).toBe(202);
    const followed = await kiln(['status', 'kiln-cleanup', '--app', s.url, '--key', s.key, '--follow']);
    expect(followed.code, followed.stderr).toBe(0);
    return (await (await fetch(`${s.url}/api/runs`, { headers: key(s) })).json()) as {
      runs: { id: string; startedBy: string; outcome: string }[];
    };
  }

  it('keeps the run history in Azurite, started on loopback for the app, by default', async () => {
    expect(served.tableStorage).toBe('azurite');
    expect(served.tableEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    const { runs } = await cleanUpAndList(served);
    expect(runs.find((r) => r.id === 'kiln-cleanup')).toMatchObject({ outcome: 'planned' });
    // The rows are in Azurite itself (read here with its development account key).
    const table = new TableClient(
      served.tableEndpoint,
      'kilnruns',
      new AzureNamedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    );
    const ids: string[] = [];
    for await (const row of table.listEntities<{ instanceId: string }>()) ids.push(row.instanceId);
    expect(ids).toContain('kiln-cleanup');
  });

  it("--table-storage fake keeps them in the fake cloud's Table storage", async () => {
    const fake = await startServe(['--scenario', FIXTURE, '--table-storage', 'fake']);
    try {
      expect(fake.tableStorage).toBe('fake');
      expect(fake.azuritePid).toBeUndefined();
      expect(fake.tableEndpoint).not.toContain('devstoreaccount1');
      const { runs } = await cleanUpAndList(fake);
      expect(runs.map((r) => [r.id, r.startedBy, r.outcome])).toEqual([
        ['kiln-cleanup', 'http node', 'planned'],
      ]);
    } finally {
      await fake.stop();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
