import { describe, expect, it } from 'vitest';
import { runningRollouts } from '../../src/functions/fleet-rollouts.js';
import type { DurableStatusLike } from '../../src/functions/runs-view.js';

const ROLLOUT = 'rollout-linux-agent-2026.11.1';

const scaleSetRollout = (
  id: string,
  runtimeStatus: string,
  status: Record<string, unknown>,
): DurableStatusLike => ({
  name: 'rolloutScaleSetOrchestrator',
  instanceId: id,
  runtimeStatus,
  customStatus: { version: '2026.11.1', ...status },
});

describe('runningRollouts', () => {
  it('gives a running rollout its scale sets: started ones with their progress (ended or rolling), then the queued', () => {
    const all: DurableStatusLike[] = [
      {
        name: 'rolloutOrchestrator',
        instanceId: ROLLOUT,
        runtimeStatus: 'Running',
        customStatus: {
          phase: 'rolling',
          version: '2026.11.1',
          scaleSets: {
            lead: { state: 'updated', onNewVersion: 4 },
            b: { state: 'queued', child: `${ROLLOUT}:b` },
            c: { state: 'queued', child: `${ROLLOUT}:c` },
          },
        },
      },
      scaleSetRollout(`${ROLLOUT}:lead`, 'Completed', {
        scaleSet: 'lead',
        phase: 'wave 3',
        onNewVersion: 4,
        firstWaveAt: '2026-12-01T03:10:00.000Z',
      }),
      scaleSetRollout(`${ROLLOUT}:b`, 'Running', { scaleSet: 'b', phase: 'wave 1', onNewVersion: 0 }),
      // Someone else's orchestration and an older, finished rollout: not running rollouts.
      { name: 'cleanupOrchestrator', instanceId: 'kiln-cleanup', runtimeStatus: 'Running' },
      {
        name: 'rolloutOrchestrator',
        instanceId: 'rollout-linux-agent-2026.10.1',
        runtimeStatus: 'Completed',
      },
      scaleSetRollout('rollout-linux-agent-2026.10.1:lead', 'Completed', {
        scaleSet: 'lead',
        onNewVersion: 4,
      }),
    ];
    expect(runningRollouts(all)).toEqual([
      {
        run: ROLLOUT,
        version: '2026.11.1',
        scaleSets: [
          {
            name: 'lead',
            state: 'ended',
            phase: 'wave 3',
            onNewVersion: 4,
            firstWaveAt: '2026-12-01T03:10:00.000Z',
          },
          { name: 'b', state: 'rolling', phase: 'wave 1', onNewVersion: 0 },
          { name: 'c', state: 'queued', onNewVersion: 0 },
        ],
      },
    ]);
  });

  it("counts a rebuild's canary; a rollout still checking its version has no scale set yet", () => {
    const rebuild = 'rebuild-linux-2026-12';
    const all: DurableStatusLike[] = [
      {
        name: 'rebuildOrchestrator',
        instanceId: rebuild,
        runtimeStatus: 'Running',
        customStatus: { image: 'linux', version: '2026.12.1', phase: 'canary' },
      },
      scaleSetRollout(`${rebuild}:canary`, 'Running', {
        scaleSet: 'canary-set',
        version: '2026.12.1',
        onNewVersion: 1,
        firstWaveAt: '2026-12-01T04:00:00.000Z',
      }),
      {
        name: 'rolloutOrchestrator',
        instanceId: ROLLOUT,
        runtimeStatus: 'Running',
        customStatus: { phase: 'checking version', version: '2026.11.1' },
      },
    ];
    expect(runningRollouts(all)).toEqual([
      {
        run: rebuild,
        version: '2026.12.1',
        scaleSets: [
          {
            name: 'canary-set',
            state: 'rolling',
            onNewVersion: 1,
            firstWaveAt: '2026-12-01T04:00:00.000Z',
          },
        ],
      },
    ]);
  });

  it('counts a rollout whose scale sets are all queued, its first not started yet', () => {
    expect(
      runningRollouts([
        {
          name: 'rolloutOrchestrator',
          instanceId: ROLLOUT,
          runtimeStatus: 'Running',
          customStatus: {
            phase: 'rolling lead first',
            version: '2026.11.1',
            scaleSets: { lead: { state: 'queued', child: `${ROLLOUT}:lead` } },
          },
        },
      ]),
    ).toEqual([
      { run: ROLLOUT, version: '2026.11.1', scaleSets: [{ name: 'lead', state: 'queued', onNewVersion: 0 }] },
    ]);
  });

  it('leaves out a run whose scale set rollouts all ended (a rebuild after its canary, before its rollout)', () => {
    const rebuild = 'rebuild-linux-2026-12';
    expect(
      runningRollouts([
        {
          name: 'rebuildOrchestrator',
          instanceId: rebuild,
          runtimeStatus: 'Running',
          customStatus: { phase: 'replicating', version: '2026.12.1' },
        },
        scaleSetRollout(`${rebuild}:canary`, 'Completed', { scaleSet: 'canary-set', onNewVersion: 2 }),
      ]),
    ).toEqual([]);
  });
});
