/**
 * kiln rebuild approve|reject against `kiln serve`, as an operator runs them (child processes, exit
 * codes): a Windows rebuild whose build drops azure-cli waits after its canary in awaitingApproval;
 * kiln status shows what holds it; approving lets it promote; answering again, or a run that does not
 * exist, is refused with the table's codes.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, startServe, type Served } from './serve-helper.js';

const FIXTURE = resolve('test/cli/fixtures/serve-approval.yaml');
let served: Served;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  served = await startServe(['--scenario', FIXTURE, '--speed', '1200', '--table-storage', 'fake']);
  env = { ...process.env, KILN_FUNCTION_KEY: served.key };
});
afterAll(async () => {
  await served?.stop();
});

describe('kiln rebuild approve|reject', () => {
  it(
    'a held rebuild shows why in status, and approve lets it promote (exit 0)',
    { timeout: 180_000 },
    async () => {
      const start = await kiln(['rebuild', '--app', served.url, '--image', 'windows', '--no-wait'], env);
      expect(start.code, start.stderr).toBe(4);
      const id = start.stdout.trim();
      expect(id).toMatch(/^rebuild-windows-/);

      // Not held yet (building): answering now is refused, nothing changes.
      const early = await kiln(['rebuild', 'approve', id, '--app', served.url], env);
      expect(early.code, early.stderr).toBe(1);
      expect(early.stderr).toContain('not awaiting approval');

      // Wait (over HTTP, cheaper than a process per poll) until the gate holds it.
      const phase = async () =>
        (
          (await (
            await fetch(`${served.url}/api/runs/${id}`, { headers: { 'x-functions-key': served.key } })
          ).json()) as {
            phase?: string;
          }
        ).phase;
      await expect.poll(phase, { timeout: 60_000, interval: 250 }).toBe('awaiting approval');
      const held = (await kiln(['status', id, '--app', served.url], env)).stdout;
      expect(held).toMatch(/awaiting approval until .*azure-cli \S+ was removed/);
      expect(held).toContain(`kiln rebuild approve ${id}`);
      expect(held).toMatch(/removed\s+azure-cli/);

      const approve = await kiln(
        [
          'rebuild',
          'approve',
          id,
          '--app',
          served.url,
          '--by',
          'ops-oncall',
          '--reason',
          'az moves to a container',
          '--follow',
          '--interval',
          '0.2',
        ],
        env,
      );
      expect(approve.code, approve.stderr).toBe(0);
      expect(approve.stderr).toContain(`approved ${id} (2026.12.1) as ops-oncall`);
      expect(approve.stdout).toContain('Completed — promoted');
      expect(approve.stdout).toMatch(/removed\s+azure-cli/);
      expect(approve.stdout).toContain('approval: approved by ops-oncall (az moves to a container)');

      // It has ended: another answer is refused (409 → 1).
      const again = await kiln(['rebuild', 'reject', id, '--app', served.url], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/has ended \(Completed\)/);
    },
  );

  it('exits 2 for a rebuild that does not exist, and for a missing id', async () => {
    const unknown = await kiln(['rebuild', 'approve', 'rebuild-windows-1999-01', '--app', served.url], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no rebuild "rebuild-windows-1999-01"');
    const missing = await kiln(['rebuild', 'reject', '--app', served.url], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('takes one rebuild id');
  });
});
