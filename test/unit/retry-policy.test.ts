import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load-settings.js';
import {
  ACTIVITY_BUDGET,
  activityWithRetriesWorstMs,
  CLIENT_TUNING,
  clientCallWorstMs,
  listActivityWorstMs,
  MAX_CLIENT_REQUEST_TIMEOUT_MS,
  type ClientTuning,
} from '../../src/retry-policy.js';
import { renderLayerTable, renderRetryTable, worstCases } from '../../src/retry-table.js';

/** host.json's functionTimeout ("hh:mm:ss"), the longest an activity may run before the host kills it. */
function functionTimeoutMs(): number {
  const { functionTimeout } = JSON.parse(readFileSync('host.json', 'utf8')) as { functionTimeout: string };
  const [h, m, s] = functionTimeout.split(':').map(Number) as [number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000;
}

const MINIMAL = {
  AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
  KEYVAULT_URL: 'https://kv-test.vault.azure.net',
};

describe('the retry policy', () => {
  it("defaults are the settings' defaults", () => {
    const s = loadSettings(MINIMAL);
    const tuning: ClientTuning = {
      clientRetryBaseMs: s.clientRetryBaseMs,
      clientAttemptTimeoutMs: s.clientAttemptTimeoutMs,
      clientRequestTimeoutMs: s.clientRequestTimeoutMs,
      clientMaxRetries: s.clientMaxRetries,
    };
    expect(tuning).toEqual(CLIENT_TUNING);
  });

  it('worst case per operation, from the numbers: every client call is cut at its deadline', () => {
    const byName = new Map(worstCases().map((row) => [row.operation, row.worstMs]));
    const call = CLIENT_TUNING.clientRequestTimeoutMs;
    expect(byName.get('ARM read (a model, an instance list, a version)')).toBe(call);
    expect(byName.get('GitHub call (the first of a client also reads the App key and gets a token)')).toBe(
      call,
    );
    expect(byName.get('Azure DevOps call')).toBe(call);
    // An activity of one call: 4 attempts of one call each and timers of 30 + 60 + 120 s between them.
    expect(byName.get('activity with one call, with its retries')).toBe(4 * call + 210_000);
    // An activity over a list: its budget, then an item's calls and a pool look-up.
    expect(listActivityWorstMs()).toBe(ACTIVITY_BUDGET.timeMs + 3 * call);
    expect(byName.get('activity over a list, with its retries')).toBe(
      activityWithRetriesWorstMs(listActivityWorstMs()),
    );
  });

  it('an activity ends before the host kills it, with the default and with the longest request deadline allowed', () => {
    const limit = functionTimeoutMs();
    expect(listActivityWorstMs()).toBeLessThan(limit);
    const longest: ClientTuning = {
      ...CLIENT_TUNING,
      clientAttemptTimeoutMs: MAX_CLIENT_REQUEST_TIMEOUT_MS,
      clientRequestTimeoutMs: MAX_CLIENT_REQUEST_TIMEOUT_MS,
      clientMaxRetries: { arm: 10, github: 10, ado: 10 },
    };
    expect(clientCallWorstMs(longest)).toBe(MAX_CLIENT_REQUEST_TIMEOUT_MS);
    expect(listActivityWorstMs(longest)).toBeLessThan(limit);
  });

  it('keeps the README tables and the table atop src/retry-policy.ts equal to what the numbers give', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(renderRetryTable());
    const policy = readFileSync('src/retry-policy.ts', 'utf8');
    expect(policy).toContain(
      renderLayerTable()
        .map((line) => ` * ${line}`)
        .join('\n'),
    );
  });
});
