import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodesHelp } from '../../src/cli/exit-codes.js';
import { kiln, startServe, type Served } from './serve-helper.js';

// kiln status and kiln rebuild|rollout|cleanup against `kiln serve`, as an operator runs them:
// child processes, exit codes, the live progress on stderr and the result on stdout.
const FIXTURE = resolve('test/cli/fixtures/serve-rollout.yaml');
let served: Served;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  served = await startServe(['--scenario', FIXTURE, '--speed', '1200']);
  env = { ...process.env, KILN_FUNCTION_KEY: served.key };
});
afterAll(async () => {
  await served?.stop();
});

describe('kiln rollout|cleanup|rebuild', () => {
  it('starts a rollout and follows it wave by wave until it ends (exit 0)', async () => {
    const { code, stdout, stderr } = await kiln(
      ['rollout', '--app', served.url, '--image', 'linux', '--version', '2026.11.1', '--interval', '0.2'],
      env,
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('started rollout-linux-agent-2026.11.1');
    expect(stderr).toMatch(/rolling vmss-gh-linux-weu first/);
    expect(stderr).toMatch(/vmss-gh-linux-weu wave \d+, \d on 2026\.11\.1/);
    expect(stdout).toContain(
      'rollout-linux-agent-2026.11.1 (rollout linux-agent 2026.11.1): Completed — succeeded',
    );
    expect(stdout).toContain('vmss-gh-linux-weu: updated, 4 updated');
    expect(stdout).toContain('vmss-gh-linux-neu: updated, 3 updated');
    // The key never appears in what the command prints.
    expect(stdout + stderr).not.toContain(served.key);
  });

  it('lists the runs and shows one, as text and JSON', async () => {
    const list = await kiln(['status', '--app', served.url], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^RUN\s+KIND\s+SUBJECT\s+STARTED BY\s+STATUS/);
    expect(list.stdout).toMatch(
      /rollout-linux-agent-2026\.11\.1\s+rollout\s+linux-agent 2026\.11\.1\s+http kiln-cli\/\S+\s+Completed\s+succeeded/,
    );
    const one = await kiln(['status', 'rollout-linux-agent-2026.11.1', '--app', served.url, '--json'], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({
      id: 'rollout-linux-agent-2026.11.1',
      status: 'Completed',
      outcome: 'succeeded',
      children: [
        { id: 'rollout-linux-agent-2026.11.1:vmss-gh-linux-weu', status: 'Completed' },
        { id: 'rollout-linux-agent-2026.11.1:vmss-gh-linux-neu', status: 'Completed' },
      ],
    });
  });

  it('--no-wait prints the id and exits 4 (not ended); status --follow follows it', async () => {
    const started = await kiln(['cleanup', '--app', served.url, '--dry-run', '--no-wait', '--json'], env);
    expect(started.code, started.stderr).toBe(4);
    expect(JSON.parse(started.stdout)).toEqual({ started: ['kiln-cleanup'] });
    const followed = await kiln(
      ['status', 'kiln-cleanup', '--app', served.url, '--follow', '--interval', '0.2'],
      env,
    );
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toContain('kiln-cleanup (cleanup fleet, dry run): Completed — planned');
    expect(followed.stdout).toMatch(/ghostRunners 2/);
  });

  it('a rebuild dry run reports the plan as JSON', async () => {
    const { code, stdout, stderr } = await kiln(
      ['rebuild', '--app', served.url, '--image', 'linux', '--dry-run', '--json', '--interval', '0.2'],
      env,
    );
    expect(code, stderr).toBe(0);
    const { runs } = JSON.parse(stdout) as {
      runs: { kind: string; status: string; outcome: string; dryRun: boolean }[];
    };
    expect(runs).toEqual([
      expect.objectContaining({ kind: 'rebuild', status: 'Completed', outcome: 'planned', dryRun: true }),
    ]);
  });

  it('exits 1 with the reason when the run fails', async () => {
    const { code, stdout } = await kiln(
      ['rollout', '--app', served.url, '--image', 'linux', '--version', '2026.12.9', '--interval', '0.2'],
      env,
    );
    expect(code).toBe(1);
    expect(stdout).toContain('reason: gallery version linux-agent/2026.12.9 does not exist');
  });

  it('exits 1 naming a scale set that is not managed, and the managed ones, moving nothing', async () => {
    const { code, stdout, stderr } = await kiln(
      [
        'rollout',
        '--app',
        served.url,
        '--image',
        'windows',
        '--version',
        '2026.10.1',
        '--scale-sets',
        'vmss-ado-win-weu,vmss-ado-typo',
        '--interval',
        '0.2',
      ],
      env,
    );
    expect(code, stderr).toBe(1);
    expect(stdout).toContain('Completed — failed');
    expect(stdout).toContain(
      'reason: not a managed scale set: vmss-ado-typo (managed: vmss-ado-win-weu, vmss-gh-linux-neu, vmss-gh-linux-weu)',
    );
    expect(stdout).not.toMatch(/vmss-ado-win-weu: updated/);
  });

  it('status RUN exits as the run ended: 1 for the failed rollout, 2 for a run that does not exist', async () => {
    const failed = await kiln(['status', 'rollout-linux-agent-2026.12.9', '--app', served.url], env);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout).toContain('Completed — failed');
    const unknown = await kiln(['status', 'rollout-nope-1.2.3', '--app', served.url], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no run "rollout-nope-1.2.3"');
  });

  it('exits 0 for a rollout to the version the scale sets already run (untouched, succeeded)', async () => {
    const { code, stdout, stderr } = await kiln(
      ['rollout', '--app', served.url, '--image', 'windows', '--version', '2026.10.1', '--interval', '0.2'],
      env,
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Completed — succeeded');
    expect(stdout).toMatch(/vmss-ado-win-weu: untouched, 0 updated/);
  });

  it('exits 0 for a cleanup dry run it followed to its end', async () => {
    const { code, stdout, stderr } = await kiln(
      ['cleanup', '--app', served.url, '--dry-run', '--interval', '0.2'],
      env,
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Completed — planned');
  });
});

// Runs that end badly or have not ended, on a world of their own (test/cli/fixtures/serve-outcomes.yaml).
describe('kiln rebuild|cleanup|status: runs that fail or go on', () => {
  let world: Served;
  let worldEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    world = await startServe([
      '--scenario',
      resolve('test/cli/fixtures/serve-outcomes.yaml'),
      '--speed',
      '600',
    ]);
    worldEnv = { ...process.env, KILN_FUNCTION_KEY: world.key };
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('a rebuild whose build fails exits 1, and so does status of it', async () => {
    const rebuild = await kiln(
      ['rebuild', '--app', world.url, '--image', 'linux', '--json', '--interval', '0.2'],
      worldEnv,
    );
    expect(rebuild.code, rebuild.stderr).toBe(1);
    const [run] = (JSON.parse(rebuild.stdout) as { runs: { id: string; status: string; outcome: string }[] })
      .runs;
    expect(run).toMatchObject({ status: 'Completed', outcome: 'failed' });
    const status = await kiln(['status', run!.id, '--app', world.url], worldEnv);
    expect(status.code, status.stderr).toBe(1);
  });

  it('a cleanup that cannot read the fleet exits 1', async () => {
    const { code, stdout, stderr } = await kiln(
      ['cleanup', '--app', world.url, '--interval', '0.2'],
      worldEnv,
    );
    expect(code, stderr).toBe(1);
    expect(stdout).toMatch(/kiln-cleanup \(cleanup fleet\): (Completed — errors|Failed)/);
  });

  it('a run that goes on: --no-wait and status exit 4, starting it again exits 1 (409, nothing started)', async () => {
    const started = await kiln(
      ['rebuild', '--app', world.url, '--image', 'windows', '--no-wait', '--json'],
      worldEnv,
    );
    expect(started.code, started.stderr).toBe(4);
    const [id] = (JSON.parse(started.stdout) as { started: string[] }).started;
    // Its build takes a virtual day: 144 s at ×600, longer than these looks.
    const status = await kiln(['status', id!, '--app', world.url], worldEnv);
    expect(status.code, status.stderr).toBe(4);
    expect(status.stdout).toMatch(/status +Running/);
    const again = await kiln(['rebuild', '--app', world.url, '--image', 'windows'], worldEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing started \(follow it: kiln status rebuild-windows-/);
  });

  it('lists the run history page by page, each run with who started it', async () => {
    const ids = (stdout: string) =>
      (JSON.parse(stdout) as { runs: { id: string; createdTime: string }[] }).runs.map(
        (r) => `${r.id}@${r.createdTime}`,
      );
    // A real cleanup after the dry run: the same instance id, a run of its own in the history.
    const cleanup = await kiln(['cleanup', '--app', served.url, '--interval', '0.2'], env);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    const everything = await kiln(['status', '--app', served.url, '--top', '500', '--json'], env);
    const all = ids(everything.stdout);
    // Every run so far, the runs of kiln-cleanup among them (the earlier dry runs, then this real
    // one: one instance id, a row each); all started here.
    expect(all.length).toBeGreaterThanOrEqual(6);
    const cleanups = (JSON.parse(everything.stdout) as { runs: { id: string; dryRun: boolean }[] }).runs
      .filter((r) => r.id === 'kiln-cleanup')
      .map((r) => r.dryRun);
    expect(cleanups[0]).toBe(false);
    expect(cleanups.slice(1).length).toBeGreaterThanOrEqual(1);
    expect(cleanups.slice(1).every((dryRun) => dryRun)).toBe(true);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const run of (JSON.parse(everything.stdout) as { runs: { startedBy: string }[] }).runs)
      expect(run.startedBy).toBe(`http kiln-cli/${version}`);

    const first = await kiln(['status', '--app', served.url, '--top', '1'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^RUN\s+KIND\s+SUBJECT\s+STARTED BY\s+STATUS\s+PHASE \/ OUTCOME\s+STARTED\n/,
    );
    expect(first.stdout).toContain(`http kiln-cli/${version}`);
    const token = /^Older runs: kiln status --next (\S+) \(or --all\)$/m.exec(first.stdout)?.[1];
    expect(token).toBeDefined();
    const second = await kiln(['status', '--app', served.url, '--top', '1', '--next', token!, '--json'], env);
    expect(ids(second.stdout)).toEqual([all[1]]);
    const paged = await kiln(['status', '--app', served.url, '--top', '2', '--all', '--json'], env);
    expect(ids(paged.stdout)).toEqual(all);
    expect(JSON.parse(paged.stdout).next).toBeUndefined();
    const bad = await kiln(['status', '--app', served.url, '--next', 'bm90LWEtdG9rZW4'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the app rejected the request: query parameter "next"/);
  });
});

describe('run control: bad arguments and unreachable apps', () => {
  it.each([
    [['rollout', '--image', 'linux', '--version', '2026.11.1'], /--app URL is required/],
    [['rollout', '--app', 'URL', '--image', 'linux', '--version', '2026.11.1'], /--app must be a URL/],
    [['rollout', '--app', 'http://127.0.0.1:9', '--version', '2026.11.1'], /--image is required/],
    [['rollout', '--app', 'http://127.0.0.1:9', '--image', 'linux'], /--version is required/],
    [
      [
        'rollout',
        '--app',
        'http://127.0.0.1:9',
        '--image',
        'linux',
        '--version',
        '1.2.3',
        '--batch-percent',
        'half',
      ],
      /--batch-percent must be a number/,
    ],
    [['cleanup', '--app', 'http://127.0.0.1:9', '--force'], /Unknown option '--force'/],
    [['status', 'a', 'b', '--app', 'http://127.0.0.1:9'], /at most one run id/],
    [['status', '--follow', '--app', 'http://127.0.0.1:9'], /--follow needs a run id/],
    [['status', '--app', 'http://127.0.0.1:9', '--interval', '0'], /--interval must be/],
    [['status', '--app', 'http://127.0.0.1:9', '--top', '0'], /--top must be a whole number from 1 to 500/],
    [['status', '--app', 'http://127.0.0.1:9', '--days', 'week'], /--days must be a whole number/],
    [
      ['status', '--app', 'http://127.0.0.1:9', '--next', 'x', '--all'],
      /--next and --all exclude each other/,
    ],
    [['status', 'kiln-cleanup', '--app', 'http://127.0.0.1:9', '--top', '5'], /--top lists the run history/],
  ])('exits 2 for %j', async (args, message) => {
    const { code, stderr } = await kiln(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it("exits 2 with the app's own message when it rejects the request (400)", async () => {
    const { code, stderr } = await kiln(
      ['rollout', '--app', served.url, '--image', 'linux', '--version', '1.2'],
      env,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/the app rejected the request: field "version"/);
    const rebuild = await kiln(['rebuild', '--app', served.url, '--runner-sha256', 'ab'.repeat(32)], env);
    expect(rebuild.code).toBe(2);
    expect(rebuild.stderr).toMatch(/the app rejected the request: .*runnerSha256/);
  });

  it('exits 3 when the key is wrong or the app cannot be reached', async () => {
    const refused = await kiln(['status', '--app', served.url, '--key', 'wrong']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/refused the request \(401\): pass the function key/);
    const unreachable = await kiln(['status', '--app', 'http://127.0.0.1:9/api/'], env);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9\/api/);
  });

  it.each([
    ['rebuild', '--image', 'linux'],
    ['rollout', '--image', 'linux', '--version', '2026.11.1'],
    ['cleanup', '--dry-run'],
  ])('%s exits 3 when the key is refused', async (command, ...args) => {
    const { code, stderr } = await kiln([command, '--app', served.url, '--key', 'wrong', ...args]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/refused the request \(401\)/);
  });

  it('prints help with examples and exit codes for every command', async () => {
    for (const command of ['status', 'rebuild', 'rollout', 'cleanup']) {
      const { code, stdout } = await kiln([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`kiln ${command} —`);
      expect(stdout).toContain('Examples:');
      expect(stdout).toContain(exitCodesHelp(command as 'status' | 'rebuild' | 'rollout' | 'cleanup'));
    }
    const usage = await kiln(['help']);
    expect(usage.stdout).toMatch(/serve\s+Serve the app's HTTP routes/);
  });
});
