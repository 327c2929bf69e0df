import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `kiln simulate` as a user runs it: a child process, exit codes, stdout and stderr.
const SCENARIOS = resolve(process.cwd(), 'scenarios');

function kiln(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['bin/kiln.js', ...args],
      { env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('kiln simulate', () => {
  it('runs the must-show cleanup with only the JSON report on stdout', async () => {
    const { code, stdout, stderr } = await kiln([
      'simulate',
      '--scenario',
      join(SCENARIOS, 'busy-and-ghosts.yaml'),
      '--trigger',
      'cleanup',
      '--report',
      'json',
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      scenario: 'busy-and-ghosts',
      outcome: 'succeeded',
      jobsInterrupted: 0,
      foreignTouched: 0,
    });
    expect(report.deleted.githubRunners).toHaveLength(12);
    expect(report.faultsInjected).toEqual({ 'github:deleteRunner': 2 });
    expect(stderr).toContain('cleanup: started by http');
  });

  it('runs the built-in demo without a scenario, trusting the fake CA on its own', async () => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const { code, stdout, stderr } = await kiln(['simulate'], env);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/kiln simulate — scenario "/);
    expect(stdout).toMatch(/jobs interrupted +0/);
  });

  it('exits 1 when a run ends other than the scenario expects, 0 when it ends as expected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    // bad-image ends rolledBack (the canary rejects the Linux build) and says it expects that.
    const expected = await kiln([
      'simulate',
      '--scenario',
      join(SCENARIOS, 'bad-image.yaml'),
      '--report',
      'json',
    ]);
    expect(expected.code, expected.stderr).toBe(0);
    expect(JSON.parse(expected.stdout)).toMatchObject({
      outcome: 'rolledBack',
      expected: ['rolledBack'],
      violations: [],
    });
    // The same world expecting success: the rollback is not what was asked, so the exit says so.
    const file = join(dir, 'bad-image-expecting-success.yaml');
    writeFileSync(
      file,
      'version: 1\nname: bad\ngallery: { regions: [westeurope] }\nimages: { linux: { unhealthy: true } }\n' +
        'scaleSets:\n  - { name: a, image: linux, capacity: 2, canary: true }\n  - { name: b, image: linux, capacity: 2 }\n' +
        'trigger: [http-rebuild]\ntimers: false\n',
    );
    const unexpected = await kiln(['simulate', '--scenario', file]);
    expect(unexpected.code).toBe(1);
    expect(unexpected.stdout).toMatch(/outcome +rolledBack +\(NOT AS EXPECTED: succeeded\)/);
    expect(unexpected.stdout).toMatch(/invariants +all held/);
  });

  it.each([
    [
      'duplicates in the millions',
      'eventgrid: { version: { image: linux, version: 2026.12.5 }, duplicates: 5000000 }\n',
      /eventgrid\.duplicates/,
    ],
    ['a clock that never stops', 'until: 9999-01-01T00:00:00Z\n', /until.*at most 31 days/],
    [
      'a fault that can never fire',
      'faults: [{ service: github, operation: deleteRunner, fail: true }]\n',
      /faults\[0\]\.fail/,
    ],
    [
      'a region on a GitHub fault',
      'faults: [{ service: github, operation: deleteRunner, status: 500, region: westeurope }]\n',
      /faults\[0\]\.region/,
    ],
  ])('exits 2 for a scenario that could hang or never take effect: %s', async (_case, yaml, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `version: 1\nname: bad\n${yaml}`);
    const { code, stderr } = await kiln(['simulate', '--scenario', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 naming the field of a bad scenario', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\nname: bad\nscaleSets:\n  - { name: a, image: linux, capacity: -1 }\n');
    const { code, stderr, stdout } = await kiln(['simulate', '--scenario', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/scaleSets\[0\]\.capacity/);
  });

  it("exits 2 naming a scenario's setting the app would refuse, as the settings loader words it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\nname: bad\nsettings: { PRUNE_KEEP: banana }\n');
    const { code, stdout, stderr } = await kiln(['simulate', '--scenario', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/settings\.PRUNE_KEEP \(line 3, column \d+\): .*\(got "banana"\) \(example: 3\)/);
  });

  it('exits 2 listing every bad setting, without a stack trace', async () => {
    const env = { ...process.env, PRUNE_KEEP: 'banana', REBUILD_SCHEDULE: 'monthly' };
    const { code, stdout, stderr } = await kiln(['simulate', '--trigger', 'cleanup'], env);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^kiln simulate: kiln settings are invalid \(2 problems\):\n/);
    expect(stderr).toMatch(/ {2}- REBUILD_SCHEDULE: must be an NCRONTAB expression .*\(got "monthly"\)/);
    expect(stderr).toMatch(/ {2}- PRUNE_KEEP: .*\(got "banana"\) \(example: 3\)/);
    expect(stderr).not.toMatch(/\bat \w+ \(/);
  });

  it.each([
    [['simulate', '--report', 'xml'], /--report must be "text" or "json"/],
    [['simulate', '--trigger', 'nonsense'], /unknown: nonsense/],
    [['simulate', '--scenario'], /argument missing|--scenario/],
    [['simulate', '--bogus'], /Unknown option '--bogus'/],
    [['simulate', '--scenario', '/no/such/file.yaml'], /\/no\/such\/file\.yaml/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('exits 2 for bad arguments: %j', async (args, message) => {
    const { code, stderr } = await kiln(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('prints help with examples', async () => {
    const { code, stdout } = await kiln(['simulate', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Examples:');
    expect(stdout).toContain('Exit codes:');
  });
});
