import { describe, expect, it } from 'vitest';
import { describeRun, summarise } from '../../src/cli/progress.js';
import type { RunDetail } from '../../src/functions/runs-view.js';

// The progress line and the summary the run-control commands print, from GET /api/runs/{id} answers.
function run(fields: Partial<RunDetail>): RunDetail {
  return {
    id: 'rollout-linux-agent-2026.12.1',
    kind: 'rollout',
    startedBy: 'http kiln-cli/0.1.0',
    status: 'Running',
    subject: 'linux-agent 2026.12.1',
    dryRun: false,
    createdTime: '2026-12-01T03:00:00.000Z',
    lastUpdatedTime: '2026-12-01T03:10:00.000Z',
    customStatus: null,
    input: null,
    output: null,
    children: [],
    ...fields,
  };
}

describe('describeRun', () => {
  it('shows the phase, scale sets by state (a queued one whose child runs is rolling) and the wave of each rolling one', () => {
    const line = describeRun(
      run({
        phase: 'rolling',
        customStatus: {
          phase: 'rolling',
          scaleSets: {
            a: { state: 'updated' },
            b: { state: 'queued', child: 'rollout-linux-agent-2026.12.1:b' },
            c: { state: 'queued', child: 'rollout-linux-agent-2026.12.1:c' },
          },
        },
        children: [
          {
            id: 'rollout-linux-agent-2026.12.1:b',
            name: 'rolloutScaleSetOrchestrator',
            status: 'Running',
            phase: 'waiting for busy instances',
            customStatus: {
              scaleSet: 'b',
              version: '2026.12.1',
              wave: 3,
              onNewVersion: 5,
              pendingBusy: 2,
              unhealthy: 1,
            },
          },
          {
            id: 'rollout-linux-agent-2026.12.1:a',
            name: 'rolloutScaleSetOrchestrator',
            status: 'Completed',
            customStatus: { scaleSet: 'a' },
          },
        ],
      }),
    );
    expect(line).toBe(
      'rollout-linux-agent-2026.12.1: Running · rolling · scale sets: 1 updated, 1 rolling, 1 queued · b waiting for busy instances, wave 3, 5 on 2026.12.1, 2 busy, 1 unhealthy',
    );
  });

  it('does not repeat the wave a phase already names, and shows a rebuild waiting for its build or replication', () => {
    const rebuild = describeRun(
      run({
        id: 'rebuild-linux-2026-12',
        kind: 'rebuild',
        phase: 'replicating',
        children: [
          {
            id: 'rebuild-linux-2026-12:replicate-1',
            name: 'waitForReplicationOrchestrator',
            status: 'Running',
            customStatus: {
              regions: [
                { region: 'westeurope', state: 'Completed' },
                { region: 'northeurope', state: 'Replicating' },
              ],
            },
          },
          {
            id: 'rebuild-linux-2026-12:rollout:x',
            name: 'rolloutScaleSetOrchestrator',
            status: 'Running',
            phase: 'wave 2',
            customStatus: { scaleSet: 'x', version: '2026.12.1', wave: 2, onNewVersion: 1 },
          },
        ],
      }),
    );
    expect(rebuild).toBe(
      'rebuild-linux-2026-12: Running · replicating · replication westeurope Completed, northeurope Replicating · x wave 2, 1 on 2026.12.1',
    );
  });

  it('ends with the outcome and the reason', () => {
    expect(
      describeRun(
        run({
          status: 'Completed',
          phase: 'done',
          outcome: 'rolledBack',
          failureReason: 'health gate: 3 of 4 unhealthy',
        }),
      ),
    ).toBe('rollout-linux-agent-2026.12.1: Completed · done · rolledBack · health gate: 3 of 4 unhealthy');
  });
});

describe('summarise', () => {
  it('lists each scale set of a rollout and a rebuild with the version and regions', () => {
    const text = summarise([
      run({
        status: 'Completed',
        outcome: 'partial',
        output: {
          scaleSets: {
            a: { scaleSet: 'a', state: 'updated', instancesUpdated: 4, instancesPending: 0 },
            b: {
              scaleSet: 'b',
              state: 'pending',
              instancesUpdated: 2,
              instancesPending: 1,
              reason: 'busy past 6 h',
            },
          },
        },
      }),
      run({
        id: 'rebuild-linux-2026-12',
        kind: 'rebuild',
        subject: 'linux 2026.12.1',
        status: 'Completed',
        outcome: 'promoted',
        output: { version: '2026.12.1', regions: ['westeurope', 'northeurope'], rollout: { scaleSets: {} } },
      }),
    ]);
    expect(text).toBe(
      [
        'rollout-linux-agent-2026.12.1 (rollout linux-agent 2026.12.1): Completed — partial',
        '  a: updated, 4 updated',
        '  b: pending, 2 updated, 1 pending (busy) — busy past 6 h',
        'rebuild-linux-2026-12 (rebuild linux 2026.12.1): Completed — promoted',
        '  version 2026.12.1 in westeurope, northeurope',
        '',
      ].join('\n'),
    );
  });
});
