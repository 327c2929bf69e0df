import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { doctorCommand } from '../../src/cli/doctor.js';
import type { CheckResult } from '../../src/cli/doctor-checks.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

// `kiln doctor` in-process against the fake cloud, with settings from a local.settings.json.

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
    return { code: await doctorCommand(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('kiln doctor', () => {
  let t: TestCloud;
  let dir: string;
  const settingsFile = (overrides: Record<string, string> = {}) => {
    const file = join(dir, `settings-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ IsEncrypted: false, Values: { ...t.cloud.env, ...overrides } }));
    return file;
  };
  const json = async (argv: string[]) => {
    const { code, stdout, stderr } = await run([...argv, '--json']);
    return { code, stderr, result: JSON.parse(stdout) as { ok: boolean; checks: CheckResult[] } };
  };
  const find = (checks: CheckResult[], name: string) => checks.find((c) => c.check === name);

  beforeAll(async () => {
    t = await startTestCloud(makeScenario());
    dir = mkdtempSync(join(tmpdir(), 'kiln-doctor-'));
  });
  afterAll(() => t.close());

  it('passes every check on a healthy deployment, and never prints a secret', async () => {
    const pat = 'sentinelpat0123456789abcdefghijklmnopqrstuvwxyz';
    t.cloud.setSecret('ado-pat', pat);
    t.cloud.requestLog.length = 0;
    const { code, stderr, result } = await json(['--settings', settingsFile()]);
    expect(
      result.checks.filter((c) => c.status !== 'pass'),
      stderr,
    ).toEqual([]);
    expect(code).toBe(0);
    expect(result.checks.map((c) => c.check)).toEqual([
      'settings',
      'image pipeline settings',
      'azure credential',
      'key vault secret github-app-key',
      'key vault secret ado-pat',
      'github',
      'registration broker',
      'azure devops',
      'gallery definition linux-agent',
      'gallery definition windows-agent',
      'scale set vmss-ado-win-weu',
      'scale set vmss-gh-linux-weu',
      'packer job',
      'azure identity',
      'roles',
      'registration secret vmss-ado-win-weu',
      'registration secret vmss-gh-linux-weu',
      'agents online vmss-ado-win-weu',
      'runners online vmss-gh-linux-weu',
    ]);
    // Doctor only reads too (token requests and GitHub's installation token are authentication).
    const writes = t.cloud.requestLog.filter(
      (r) =>
        r.method !== 'GET' &&
        r.service !== 'identity' &&
        !(r.service === 'github' && /^\/app\/installations\/\d+\/access_tokens$/.test(r.path)),
    );
    expect(writes).toEqual([]);

    const text = await run(['--settings', settingsFile()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^✓ settings: /m);
    expect(text.stdout + JSON.stringify(result)).not.toContain(pat);
    expect(text.stdout).not.toContain('BEGIN RSA PRIVATE KEY');
    expect(text.stdout).toMatch(
      /^✓ runners online vmss-gh-linux-weu: 3 of 3 instance\(s\) have an online runner/m,
    );
  });

  it("fails the registration broker check when the tenant's metadata cannot be read", async () => {
    const { code, result } = await json([
      '--settings',
      settingsFile({ AZURE_TENANT_ID: '99999999-9999-4999-8999-999999999999' }),
    ]);
    expect(code).toBe(1);
    expect(find(result.checks, 'registration broker')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/metadata could not be read.*HTTP 400/),
      fix: expect.stringContaining('AZURE_TENANT_ID'),
    });
  });

  it('reports every broken setting as ✗ with the fix, and exits 1', async () => {
    const { code, result } = await json([
      '--settings',
      settingsFile({ KEYVAULT_URL: 'http://kv.example', CLEANUP_SCHEDULE: 'every 5 minutes' }),
    ]);
    expect(code).toBe(1);
    expect(find(result.checks, 'setting KEYVAULT_URL')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('must use https'),
      fix: expect.stringContaining('KEYVAULT_URL=https://kv-kiln-prod.vault.azure.net'),
    });
    expect(find(result.checks, 'setting CLEANUP_SCHEDULE')?.status).toBe('fail');
    const text = await run(['--settings', settingsFile({ KEYVAULT_URL: 'http://kv.example' })]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^✗ setting KEYVAULT_URL: .* — fix: set the app setting KEYVAULT_URL/m);
  });

  it('reports a missing Key Vault role as ✗ naming the role and the troubleshooting row', async () => {
    // The role is missing: Key Vault answers 403 to every read (the last test of this cloud).
    t.cloud.addFault({ service: 'keyvault', operation: 'getSecret', status: 403, times: 99 });
    {
      const { code, result } = await json(['--settings', settingsFile()]);
      expect(code).toBe(1);
      const kv = find(result.checks, 'key vault secret github-app-key')!;
      expect(kv).toMatchObject({ status: 'fail', troubleshooting: 'PAT retrieval fails' });
      expect(kv.fix).toContain('Key Vault Secrets User');
      expect(find(result.checks, 'key vault secret ado-pat')?.status).toBe('fail');
      // Without the key kiln cannot sign in to GitHub either: not checked, and not blamed on the App.
      expect(find(result.checks, 'github')).toMatchObject({
        status: 'skip',
        detail: expect.stringContaining('needs the Key Vault secret github-app-key'),
      });
      expect(find(result.checks, 'settings')?.status).toBe('pass');
    }
  });

  it.each([
    {
      // Bicep's default: the VMs ask kiln's registration broker; its refusals are in the app's log.
      registration: { github: 'jit', ado: 'broker' },
      runners: {
        troubleshooting: "the registration broker refused instance '…'",
        fix: ['KILN_REGISTRATION_URL', 'KILN_REGISTRATION_AUDIENCE', '"registration of <instance> refused ('],
      },
      agents: {
        troubleshooting: "the registration broker refused instance '…'",
        fix: ['KILN_REGISTRATION_URL', 'KILN_REGISTRATION_AUDIENCE', '"registration of <instance> refused ('],
      },
    },
    {
      // The VMs read a PAT from Key Vault.
      registration: { github: 'pat', ado: 'pat' },
      runners: { troubleshooting: 'GitHub runner never shows online', fix: ['KEYVAULT_NAME', 'SECRET_NAME'] },
      agents: { troubleshooting: 'ADO agent stuck unconfigured', fix: ['ADO_PAT_SECRET', 'AdoBootstrap'] },
    },
  ] as const)(
    'reports instances whose runner or agent never came online, with the hint for $registration.github/$registration.ado registration',
    async ({ registration, runners: runnerHint, agents: agentHint }) => {
      // A fleet provisioned long ago (well past the boot deadline): one runner offline, one agent never registered.
      const old = await startTestCloud(makeScenario({ start: '2026-01-01T00:00:00Z', registration }));
      try {
        const runners = [...old.cloud.world.runners.values()].filter((r) => !r.foreign);
        const agents = [...old.cloud.world.agents.values()];
        runners[0]!.status = 'offline';
        old.cloud.world.agents.delete(agents[0]!.id);
        const file = join(dir, `old-${registration.github}.json`);
        writeFileSync(file, JSON.stringify(old.cloud.env));
        const { code, result } = await json(['--settings', file]);
        expect(code).toBe(1);
        const runnersOnline = find(result.checks, 'runners online vmss-gh-linux-weu');
        expect(runnersOnline).toMatchObject({
          status: 'fail',
          detail: expect.stringContaining(runners[0]!.name),
          troubleshooting: runnerHint.troubleshooting,
        });
        for (const part of runnerHint.fix) expect(runnersOnline?.fix).toContain(part);
        const agentsOnline = find(result.checks, 'agents online vmss-ado-win-weu');
        expect(agentsOnline).toMatchObject({
          status: 'fail',
          detail: expect.stringContaining(agents[0]!.name),
          troubleshooting: agentHint.troubleshooting,
        });
        for (const part of agentHint.fix) expect(agentsOnline?.fix).toContain(part);
      } finally {
        await old.close();
      }
    },
  );

  it('exits 2 for bad arguments, and has help with examples', async () => {
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run(['extra'])).code).toBe(2);
    expect((await run(['--settings', join(dir, 'missing.json')])).stderr).toContain(
      'cannot read the settings file',
    );
    expect((await run(['--ca', join(dir, 'missing.pem')])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('Exit codes:');
  });
});

// `--scenario`: the checks against the embedded fake cloud built from a scenario file, started as
// simulate starts it. The fake serves every check the shapes of the real services and the roles of
// kiln's compiled Bicep, so a world without faults passes them all; a fault fails its check.
describe('kiln doctor --scenario', () => {
  const scenarioFile = (yaml: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-doctor-scenario-')), 'world.yaml');
    writeFileSync(file, yaml);
    return file;
  };

  it("passes every check in the scenario's world, at its start (exit 0)", async () => {
    const { code, stdout, stderr } = await run(['--scenario', 'scenarios/monthly-small.yaml', '--json']);
    expect(stderr).toContain('the embedded fake cloud of scenario "monthly-small"');
    const result = JSON.parse(stdout) as { ok: boolean; at: string; checks: CheckResult[] };
    expect(result.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(code).toBe(0);
    expect(result.at).toBe('2026-12-01T02:55:00.000Z');
    expect(result.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        'roles',
        'registration broker',
        'runners online vmss-gh-linux-weu',
        'agents online vmss-ado-win-weu',
      ]),
    );
  });

  it("fails the check a scenario's fault breaks, with its fix (exit 1)", async () => {
    const file = scenarioFile(
      'version: 1\nname: ado-down\nfaults:\n  - { service: ado, operation: getPools, status: 401, persistent: true }\n',
    );
    const { code, stdout } = await run(['--scenario', file, '--json']);
    expect(code).toBe(1);
    const { checks } = JSON.parse(stdout) as { checks: CheckResult[] };
    expect(checks.find((c) => c.check === 'azure devops')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('Agent Pools (Read & manage)'),
    });
    expect(checks.filter((c) => c.status === 'fail').map((c) => c.check)).toEqual(['azure devops']);
  });

  it('exits 2 naming the field of a bad scenario', async () => {
    const { code, stderr } = await run([
      '--scenario',
      scenarioFile('version: 1\nname: bad\nghosts: { github: -3 }\n'),
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/ghosts\.github/);
  });
});
