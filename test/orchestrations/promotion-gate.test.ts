/**
 * PROMOTION_GATE end to end (issue 18): the app as registered, on the local durable runner, against
 * the fake cloud, whose Packer job stores a software report per build. A scenario makes the Windows
 * build drop a tool and move one a major version; the rebuild waits after its canary until the
 * scenario's person answers through POST /api/rebuilds/{id}/approve|reject, or the timeout rejects it.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { runSimulation, type SimulationOptions } from '../../src/local/simulate/run-simulation.js';

const FILE = resolve(process.cwd(), 'scenarios/tool-removed.yaml');

async function simulate(scenario: Scenario, options: SimulationOptions = {}) {
  const result = await runSimulation(scenario, { ...options, keepRunning: true });
  await result.close();
  return result;
}

/** scenarios/tool-removed.yaml with its Windows image (and anything else) changed. */
function toolRemoved(change: (fields: Record<string, unknown>) => void): Scenario {
  const base = loadScenarioFile(FILE);
  const fields: Record<string, unknown> = {
    name: base.name,
    trigger: base.trigger,
    timers: false,
    until: base.until,
    gallery: { regions: ['westeurope'], existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] } },
    images: {
      windows: {
        changes: [
          { tool: 'git', to: '3.0.1' },
          { tool: 'azure-cli', to: null },
        ],
      },
    },
    scaleSets: base.scaleSets.map((s) => ({
      name: s.name,
      image: s.image,
      region: s.region,
      capacity: s.capacity,
      ...(s.canary ? { canary: true } : {}),
    })),
  };
  change(fields);
  return parseScenario(JSON.stringify(fields), 'inline');
}

const windowsImage = (fields: Record<string, unknown>) =>
  (fields.images as { windows: Record<string, unknown> }).windows;

describe('the promotion gate', () => {
  it('holds a Windows version that drops a tool: awaitingApproval, the diff names the tool, nothing promoted', async () => {
    const { report, cloud } = await simulate(loadScenarioFile(FILE));
    expect(report.outcome).toBe('partial');
    const windows = report.images.windows!;
    expect(windows.state).toBe('awaitingApproval');
    expect(windows.version).toBe('2026.12.1');
    expect(windows.changes).toEqual(
      expect.arrayContaining([
        { tool: 'azure-cli', from: expect.any(String), to: null, kind: 'removed' },
        { tool: 'git', from: expect.stringMatching(/^2\./), to: '3.0.1', kind: 'major' },
      ]),
    );
    expect(windows.reason).toMatch(/awaiting approval until 2026-12-0\dT.*azure-cli .* was removed/);
    // The Linux image changed nothing and was promoted as before.
    expect(report.images.linux).toMatchObject({ state: 'promoted', changes: [] });
    // Held: tagged so, excluded from latest, and only the canary runs it.
    const held = cloud.world.versions.get(cloud.world.versionKey('windows', '2026.12.1'))!;
    expect(held.excludeFromLatest).toBe(true);
    expect(held.tags['kiln-state']).toBe('awaitingApproval');
    expect(held.tags['kiln-software-report']).toBe('windows-agent/2026.12.1/software.json');
    expect(report.scaleSets['vmss-ado-win-weu']).toMatchObject({ version: '2026.12.1' });
    expect(report.scaleSets['vmss-ado-win-weu-2']).toMatchObject({
      state: 'untouched',
      version: '2026.10.1',
    });
    expect(report.violations).toEqual([]);
    expect(report.events.some((e) => /awaiting approval until/.test(e.message))).toBe(true);
  });

  it('approved: replicated, promoted and rolled out, the approval in the report', async () => {
    const { report, cloud } = await simulate(
      toolRemoved((f) => {
        windowsImage(f).approval = { decision: 'approve', afterMinutes: 60, reason: 'git 3 checked' };
      }),
    );
    const windows = report.images.windows!;
    expect(windows.state).toBe('promoted');
    expect(windows.approval).toMatchObject({ decision: 'approved', by: 'scenario', reason: 'git 3 checked' });
    expect(windows.changes?.map((c) => `${c.tool} ${c.kind}`)).toEqual(
      expect.arrayContaining(['azure-cli removed', 'git major']),
    );
    expect(report.scaleSets['vmss-ado-win-weu-2']).toMatchObject({ state: 'updated', version: '2026.12.1' });
    const promoted = cloud.world.versions.get(cloud.world.versionKey('windows', '2026.12.1'))!;
    expect(promoted.excludeFromLatest).toBe(false);
    expect(promoted.tags['kiln-state']).toBe('promoted');
    expect(report.outcome).toBe('succeeded');
    expect(report.violations).toEqual([]);
  });

  it('timed out: rejected, nothing promoted, the canary back on the version it ran', async () => {
    const { report, cloud } = await simulate(
      toolRemoved((f) => {
        f.until = '2026-12-01T12:00:00Z';
      }),
      { settings: { APPROVAL_TIMEOUT_HOURS: '2' } },
    );
    const windows = report.images.windows!;
    expect(windows.state).toBe('rejected');
    expect(windows.reason).toMatch(/no one approved it within APPROVAL_TIMEOUT_HOURS \(2 h\)/);
    expect(windows.approval).toMatchObject({ decision: 'timedOut' });
    // Rejected for good: deleted, with its replicas, once the canary was back on what it ran.
    expect(cloud.world.versions.has(cloud.world.versionKey('windows', '2026.12.1'))).toBe(false);
    expect(windows.reason).toMatch(/version 2026\.12\.1 deleted with its replicas$/);
    expect(report.scaleSets['vmss-ado-win-weu']).toMatchObject({ version: '2026.10.1' });
    expect(report.scaleSets['vmss-ado-win-weu-2']).toMatchObject({
      state: 'untouched',
      version: '2026.10.1',
    });
    expect(report.outcome).toBe('rolledBack');
    expect(report.violations).toEqual([]);
  });

  it('rejected by a person: the reason and who in the result; the canary back', async () => {
    const { report } = await simulate(
      toolRemoved((f) => {
        windowsImage(f).approval = { decision: 'reject', afterMinutes: 10, reason: 'we still need az' };
      }),
    );
    const windows = report.images.windows!;
    expect(windows.state).toBe('rejected');
    expect(windows.reason).toMatch(/^rejected by scenario \(we still need az\); held for: .*azure-cli/);
    expect(report.scaleSets['vmss-ado-win-weu']).toMatchObject({ version: '2026.10.1' });
  });

  it('promotes without holding when the gate does not list the change (minor only, or PROMOTION_GATE=off)', async () => {
    const minor = await simulate(
      toolRemoved((f) => {
        windowsImage(f).changes = [{ tool: 'git', to: '2.99.0' }];
      }),
    );
    expect(minor.report.images.windows).toMatchObject({
      state: 'promoted',
      changes: [{ tool: 'git', kind: 'minor', to: '2.99.0' }],
    });
    expect(minor.report.images.windows!.approval).toBeUndefined();
    const off = await simulate(
      toolRemoved(() => {}),
      { settings: { PROMOTION_GATE: 'off' } },
    );
    expect(off.report.images.windows).toMatchObject({ state: 'promoted' });
    expect(off.report.images.windows!.changes?.length).toBe(2);
  });
});
