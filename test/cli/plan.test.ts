import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planCommand } from '../../src/cli/plan.js';
import type { Plan } from '../../src/cli/plan-run.js';
import type { RequestLogEntry } from '../../src/local/fake-cloud/index.js';
import { publishOutsideKiln } from '../../src/local/simulate/gallery-events.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

// `kiln plan` in-process against the fake cloud: the fake's request log shows every request kiln
// sent, so "reads only" is checked on the wire, not taken on trust.

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await planCommand(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/**
 * Requests that change something. Token requests (the managed identity endpoint) are
 * authentication, and so is the one POST GitHub needs to turn the App's JWT into an installation
 * token (POST /app/installations/{id}/access_tokens): it creates no runner, group or setting.
 */
function writes(log: RequestLogEntry[]): RequestLogEntry[] {
  return log.filter(
    (r) =>
      r.method !== 'GET' &&
      r.method !== 'HEAD' &&
      r.service !== 'identity' &&
      !(
        r.service === 'github' &&
        r.method === 'POST' &&
        /^\/app\/installations\/\d+\/access_tokens$/.test(r.path)
      ),
  );
}

const ADO_PAT = 'sentinelpat0123456789abcdefghijklmnopqrstuvwxyz';

describe('kiln plan', () => {
  let t: TestCloud;
  let settingsFile: string;
  const scenario = makeScenario({
    ghosts: { github: 2, ado: 1 },
    foreign: { github: 1, ado: 0 },
    scaleSets: [
      ...makeScenario().scaleSets,
      {
        name: 'vmss-gh-linux-neu',
        image: 'linux',
        region: 'northeurope',
        capacity: 2,
        version: '2026.9.1',
        canary: false,
        managed: true,
      },
    ],
  });

  beforeAll(async () => {
    t = await startTestCloud(scenario);
    t.cloud.setSecret('ado-pat', ADO_PAT);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-plan-'));
    settingsFile = join(dir, 'local.settings.json');
    writeFileSync(settingsFile, JSON.stringify({ IsEncrypted: false, Values: t.cloud.env }));
  });
  afterAll(() => t.close());

  it('plans a rebuild, a rollout and a cleanup, sending only reads', async () => {
    t.cloud.requestLog.length = 0;
    const { code, stdout, stderr } = await run(['--settings', settingsFile, '--json']);
    expect(code, stderr).toBe(0);
    const plan = JSON.parse(stdout) as Plan;
    expect(plan.errors).toEqual([]);

    expect(plan.rebuild.map((r) => [r.image, r.state])).toEqual([
      ['linux', 'planned'],
      ['windows', 'planned'],
    ]);
    const linux = plan.rebuild.find((r) => r.image === 'linux')!;
    expect(linux.nextVersion).toMatch(/^\d{4}\.\d{1,2}\.1$/);
    expect(linux.canary).toBe('vmss-gh-linux-weu');
    expect(linux.rollOut).toEqual(['vmss-gh-linux-neu']);

    const rollLinux = plan.rollout.find((r) => r.image === 'linux')!;
    expect(rollLinux).toMatchObject({
      version: '2026.10.1',
      versionFrom: 'newest promoted',
      state: 'planned',
    });
    expect(rollLinux.scaleSets.map((s) => s.scaleSet).sort()).toEqual([
      'vmss-gh-linux-neu',
      'vmss-gh-linux-weu',
    ]);

    expect(plan.cleanup.state).toBe('planned');
    expect(plan.cleanup.foreign.map((f) => f.name)).toHaveLength(1);

    // The proof: nothing but reads reached ARM, GitHub, Azure DevOps and Key Vault.
    const services = new Set(t.cloud.requestLog.map((r) => r.service));
    expect([...services].sort()).toEqual(['ado', 'arm', 'github', 'identity', 'keyvault']);
    expect(writes(t.cloud.requestLog)).toEqual([]);
    expect(t.cloud.ledger.deleted.githubRunners).toEqual([]);
    expect(t.cloud.ledger.deleted.instances).toEqual([]);
  });

  it('shows a rollout that would wait for replication as waiting, for every scale set, without waiting', async () => {
    // Written to the gallery but not yet replicated anywhere (the fake's clock does not move).
    publishOutsideKiln(t.cloud, scenario, 'linux', '2026.11.7');
    t.cloud.requestLog.length = 0;
    const started = Date.now();
    const { code, stdout, stderr } = await run([
      '--settings',
      settingsFile,
      '--image',
      'linux',
      '--version',
      '2026.11.7',
      '--json',
    ]);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(code, stderr).toBe(0);
    const rollout = (JSON.parse(stdout) as Plan).rollout[0]!;
    expect(rollout).toMatchObject({ version: '2026.11.7', versionFrom: 'argument', state: 'waiting' });
    // The lead waits, and the follower (never started by the parent while the lead waits) is planned too.
    expect(rollout.scaleSets.map((s) => [s.scaleSet, s.state]).sort()).toEqual([
      ['vmss-gh-linux-neu', 'waiting'],
      ['vmss-gh-linux-weu', 'waiting'],
    ]);
    for (const s of rollout.scaleSets) expect(s.reason).toMatch(/^waiting for replication/);
    expect(writes(t.cloud.requestLog)).toEqual([]);
  });

  it('prints tables', async () => {
    const { code, stdout, stderr } = await run(['--settings', settingsFile, '--image', 'linux', '--verbose']);
    expect(code).toBe(0);
    // Secrets stay in the vault: not in the plan, not in the app's log lines.
    expect(stdout + stderr).not.toContain(ADO_PAT);
    expect(stdout + stderr).not.toContain('PRIVATE KEY');
    expect(stdout).toContain('Rebuild (per image)');
    expect(stdout).toContain('Rollout (per scale set)');
    expect(stdout).toMatch(/Cleanup \(planned\)/);
    expect(writes(t.cloud.requestLog)).toEqual([]);
  });

  it('names a read that failed and does not wait for its retry (exit 1)', async () => {
    // Azure DevOps answers 500 to the pool lookup: the cleanup would retry it later on a durable timer.
    t.cloud.addFault({ service: 'ado', operation: 'getPools', status: 500, times: 99 });
    t.cloud.requestLog.length = 0;
    const { code, stdout } = await run(['--settings', settingsFile, '--json']);
    expect(code).toBe(1);
    const plan = JSON.parse(stdout) as Plan;
    expect(plan.cleanup.state).toBe('running');
    expect(plan.errors.join('\n')).toMatch(
      /cleanup: would retry after: list Azure DevOps agents: .*HTTP 500/,
    );
    // The rebuild does not read Azure DevOps: it is still planned.
    expect(plan.rebuild.map((r) => r.state)).toEqual(['planned', 'planned']);
    expect(writes(t.cloud.requestLog)).toEqual([]);
  });

  it('exits 2 for bad arguments and names the problem', async () => {
    expect((await run(['--image', 'mac'])).stderr).toContain('--image must be "linux" or "windows"');
    expect((await run(['--version', '1.2.3'])).code).toBe(2);
    expect((await run(['--image', 'linux', '--version', 'latest'])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run(['--settings', '/nonexistent/kiln.json'])).stderr).toContain(
      'cannot read the settings file',
    );
    expect((await run(['--ca', '/nonexistent/ca.pem'])).stderr).toContain('cannot read the CA file');
    expect((await run(['--ca', settingsFile])).stderr).toContain('holds no PEM certificate');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });
});

// `--scenario`: the same plan against the embedded fake cloud built from a scenario file, started as
// simulate starts it; the plan is made at the world's time (the scenario's start).
describe('kiln plan --scenario', () => {
  const scenarioFile = (yaml: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-plan-scenario-')), 'world.yaml');
    writeFileSync(file, yaml);
    return file;
  };

  it("plans in the scenario's world, at its start, without Azure (exit 0)", async () => {
    const { code, stdout, stderr } = await run(['--scenario', 'scenarios/busy-and-ghosts.yaml', '--json']);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('the embedded fake cloud of scenario "busy-and-ghosts"');
    const plan = JSON.parse(stdout) as Plan;
    expect(plan.errors).toEqual([]);
    expect(plan.at).toBe('2026-12-01T02:55:00.000Z');
    expect(plan.rebuild.map((r) => [r.image, r.state, r.nextVersion, r.canary])).toEqual([
      ['linux', 'planned', '2026.12.1', 'vmss-gh-linux-weu'],
      ['windows', 'planned', '2026.12.1', 'vmss-ado-win-weu'],
    ]);
    expect(plan.rebuild.find((r) => r.image === 'linux')!.rollOut).toEqual(['vmss-gh-linux-neu']);
    // The scenario's ghosts (12 runners, 2 agents) are what a cleanup would remove; its foreign runners stay.
    expect(plan.cleanup.remove.filter((r) => r.fleet === 'github')).toHaveLength(12);
    expect(plan.cleanup.remove.filter((r) => r.fleet === 'ado')).toHaveLength(2);
    expect(plan.cleanup.foreign).toHaveLength(3);
    const linux = plan.rollout.find((r) => r.image === 'linux')!;
    expect(linux).toMatchObject({ version: '2026.10.1', versionFrom: 'newest promoted' });
    expect(linux.scaleSets.map((s) => s.scaleSet).sort()).toEqual(['vmss-gh-linux-neu', 'vmss-gh-linux-weu']);
  });

  it('names what could not be planned when the world fails a read (exit 1)', async () => {
    const file = scenarioFile(
      'version: 1\nname: ado-down\nfaults:\n  - { service: ado, operation: listAgents, status: 404, persistent: true }\n',
    );
    const { code, stdout } = await run(['--scenario', file, '--json']);
    expect(code).toBe(1);
    expect((JSON.parse(stdout) as Plan).errors.join('\n')).toMatch(/cleanup: .*Azure DevOps agents.*404/);
  });

  it('exits 2 naming the field of a bad scenario, or a bad setting', async () => {
    const bad = await run([
      '--scenario',
      scenarioFile('version: 1\nname: bad\nscaleSets: [{ capacity: -1 }]\n'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/scaleSets\[0\]/);
    // Settings from a file apply over the fake cloud, but for its endpoints, identities and names.
    const settings = join(mkdtempSync(join(tmpdir(), 'kiln-plan-scenario-')), 'settings.json');
    // (a Key Vault URL that is not https would be a problem of its own, were it not the fake's).
    writeFileSync(settings, JSON.stringify({ PRUNE_KEEP: 'many', KEYVAULT_URL: 'http://kv.example' }));
    const badSetting = await run(['--scenario', 'scenarios/monthly-small.yaml', '--settings', settings]);
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toContain('PRUNE_KEEP');
    expect(badSetting.stderr).not.toContain('KEYVAULT_URL');
  });
});
