import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings, mask, SettingsError } from '../../src/config/load-settings.js';
import { renderSettingsTable } from '../../src/config/settings-table.js';
import { SETTINGS } from '../../src/config/settings.js';

const VALID = {
  AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
  KEYVAULT_URL: 'https://kv-test.vault.azure.net',
  GITHUB_OWNER: 'acme',
  GITHUB_APP_ID: '12345',
};

describe('settings', () => {
  it('applies every default', () => {
    const s = loadSettings(VALID);
    expect(s.arm).toEqual({
      endpoint: 'https://management.azure.com',
      audience: 'https://management.azure.com/.default',
    });
    expect(s.managedTag).toEqual({ name: 'kiln-managed', value: 'true' });
    expect(s.schedules).toEqual({
      cleanup: '0 */15 * * * *',
      rebuild: '0 0 3 1 * *',
      runnerRelease: '0 0 6 * * *',
      autoscale: '0 */1 * * * *',
    });
    expect(s.hygiene).toEqual({ offlineGraceMinutes: 30, bootDeadlineMinutes: 20 });
    expect(s.github).toMatchObject({
      apiUrl: 'https://api.github.com',
      scope: 'org',
      auth: 'app',
      appKeySecret: 'github-app-key',
      webhookSecret: 'github-webhook-secret',
    });
    expect(s.ado).toBeUndefined();
    // No table endpoint: no job demand table.
    expect(s.jobDemand).toBeUndefined();
    expect(s.rebuild).toEqual({
      buildTimeoutHours: 8,
      canarySoakMinutes: 30,
      pruneKeep: 3,
      runnerMaxAgeDays: 21,
      imageEolDays: 180,
      promotionGate: ['removed', 'major', 'unreported'],
      approvalTimeoutHours: 72,
    });
  });

  it('keeps GitHub job demand in KILN_JOB_DEMAND_TABLE of the table endpoint, only with a GitHub fleet', () => {
    const table = { KILN_TABLE_ENDPOINT: 'https://stkiln.table.core.windows.net/' };
    expect(loadSettings({ ...VALID, ...table }).jobDemand).toEqual({
      table: { endpoint: 'https://stkiln.table.core.windows.net', name: 'kilnjobdemand' },
    });
    expect(loadSettings({ ...VALID, ...table, KILN_JOB_DEMAND_TABLE: 'demand' }).jobDemand?.table.name).toBe(
      'demand',
    );
    expect(loadSettings({ ...VALID, ...table, GITHUB_OWNER: '' }).jobDemand).toBeUndefined();
    expect(loadSettings({ ...VALID, GITHUB_WEBHOOK_SECRET_NAME: 'hook' }).github?.webhookSecret).toBe('hook');
  });

  it('derives the token audience from a sovereign ARM endpoint', () => {
    const s = loadSettings({ ...VALID, ARM_ENDPOINT: 'https://management.chinacloudapi.cn/' });
    expect(s.arm.audience).toBe('https://management.chinacloudapi.cn/.default');
  });

  it('reports every problem at once, each with the setting, the problem and an example', () => {
    let error: SettingsError | undefined;
    try {
      loadSettings({
        KEYVAULT_URL: 'http://kv.example',
        GITHUB_SCOPE: 'team',
        CLEANUP_SCHEDULE: '*/15 * * * *',
        OFFLINE_GRACE_MINUTES: 'soon',
        TARGET_REGIONS: 'westeurope=2,north europe',
      });
    } catch (e) {
      error = e as SettingsError;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const settings = error!.problems.map((p) => p.setting);
    expect(settings).toEqual([
      'AZURE_SUBSCRIPTION_ID',
      'KEYVAULT_URL',
      'GITHUB_SCOPE',
      'CLEANUP_SCHEDULE',
      'OFFLINE_GRACE_MINUTES',
      'TARGET_REGIONS',
    ]);
    expect(error!.message).toMatch(
      /KEYVAULT_URL: must use https \(got "http:\/\/kv\.example"\) \(example: https:\/\/kv-kiln-prod\.vault\.azure\.net\)/,
    );
    expect(error!.message).toMatch(/AZURE_SUBSCRIPTION_ID: is required but not set/);
    for (const p of error!.problems) expect(p.example).not.toBe('');
  });

  it('requires what the chosen options need', () => {
    expect(() => loadSettings({ ...VALID, GITHUB_SCOPE: 'repo' })).toThrow(
      /GITHUB_REPO: is required when GITHUB_SCOPE=repo/,
    );
    expect(() => loadSettings({ ...VALID, GITHUB_APP_ID: '' })).toThrow(
      /GITHUB_APP_ID: is required when GITHUB_AUTH=app/,
    );
    expect(loadSettings({ ...VALID, GITHUB_OWNER: '' }).github).toBeUndefined();
  });

  it('parses regions and replica counts in order', () => {
    expect(
      loadSettings({ ...VALID, TARGET_REGIONS: 'westeurope=2, NorthEurope' }).gallery.targetRegions,
    ).toEqual([
      { name: 'westeurope', replicas: 2 },
      { name: 'northeurope', replicas: 1 },
    ]);
  });

  it("CLIENT_RETRY_BASE_MS: the clients' first retry backoff, 1000 by default, a whole number 0..60000", () => {
    expect(loadSettings(VALID).clientRetryBaseMs).toBe(1000);
    expect(loadSettings({ ...VALID, CLIENT_RETRY_BASE_MS: '0' }).clientRetryBaseMs).toBe(0);
    expect(loadSettings({ ...VALID, CLIENT_RETRY_BASE_MS: '60000' }).clientRetryBaseMs).toBe(60_000);
    for (const [value, problem] of [
      ['-1', /must be a whole number ≥ 0/],
      ['60001', /must be at most 60000/],
      ['1.5', /must be a whole number/],
      ['soon', /CLIENT_RETRY_BASE_MS/],
    ] as const) {
      expect(() => loadSettings({ ...VALID, CLIENT_RETRY_BASE_MS: value })).toThrow(problem);
    }
  });

  it("the clients' timeouts and retries: today's values by default, whole numbers in range", () => {
    const s = loadSettings(VALID);
    expect(s.clientAttemptTimeoutMs).toBe(30_000);
    expect(s.clientRequestTimeoutMs).toBe(60_000);
    expect(s.clientMaxRetries).toEqual({ arm: 3, github: 2, ado: 2 });
    const tuned = loadSettings({
      ...VALID,
      CLIENT_ATTEMPT_TIMEOUT_MS: '1500',
      CLIENT_REQUEST_TIMEOUT_MS: '90000',
      ARM_MAX_RETRIES: '0',
      GITHUB_MAX_RETRIES: '10',
      ADO_MAX_RETRIES: '1',
    });
    expect(tuned.clientAttemptTimeoutMs).toBe(1500);
    expect(tuned.clientRequestTimeoutMs).toBe(90_000);
    expect(tuned.clientMaxRetries).toEqual({ arm: 0, github: 10, ado: 1 });
    for (const [name, value, problem] of [
      ['CLIENT_ATTEMPT_TIMEOUT_MS', '0', /CLIENT_ATTEMPT_TIMEOUT_MS: must be a whole number ≥ 1 \(got "0"\)/],
      ['CLIENT_REQUEST_TIMEOUT_MS', '90001', /CLIENT_REQUEST_TIMEOUT_MS: must be at most 90000/],
      ['CLIENT_REQUEST_TIMEOUT_MS', '2.5', /CLIENT_REQUEST_TIMEOUT_MS: must be a whole number/],
      ['ARM_MAX_RETRIES', '-1', /ARM_MAX_RETRIES: must be a whole number ≥ 0/],
      ['GITHUB_MAX_RETRIES', '11', /GITHUB_MAX_RETRIES: must be at most 10/],
      ['ADO_MAX_RETRIES', 'many', /ADO_MAX_RETRIES/],
    ] as const) {
      expect(() => loadSettings({ ...VALID, [name]: value })).toThrow(problem);
    }
  });

  it('masks values of secret-looking settings only', () => {
    expect(mask('GITHUB_PAT_SECRET', 'gh-pat')).toBe('gh-pat');
    expect(mask('SOME_TOKEN', 'ghp_abcdef')).toBe('***(10 chars)');
  });

  it('keeps the README table equal to the settings list', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(renderSettingsTable());
    for (const name of Object.keys(SETTINGS)) expect(readme).toContain(`\`${name}\``);
  });
});
