import { describe, expect, it } from 'vitest';
import {
  ageDays,
  paceOf,
  rolloutPaces,
  scaleSetCompliance,
  scaleSetDrift,
  type DriftScaleSet,
  type DriftVersion,
  type RunningRollout,
} from '../../../src/domain/fleet-drift.js';

const NOW = '2026-12-01T06:00:00.000Z';

const versions: DriftVersion[] = [
  {
    version: '2026.12.1',
    state: 'excluded',
    publishedDate: '2026-12-01T04:00:00.000Z',
    tags: { 'kiln-runner-version': '2.331.0' },
  },
  {
    version: '2026.11.1',
    state: 'promoted',
    publishedDate: '2026-11-03T06:00:00.000Z',
    tags: { 'kiln-runner-version': '2.330.0' },
  },
  {
    version: '2026.10.1',
    state: 'promoted',
    publishedDate: '2026-10-02T07:00:00.000Z',
    tags: { 'kiln-runner-version': '2.329.0' },
  },
  { version: '2026.9.1', state: 'promoted', publishedDate: '2026-09-01T06:00:00.000Z', tags: {} },
];

const linux = (name: string, byVersion: [string, number][]): DriftScaleSet => ({
  name,
  image: 'linux',
  instancesByVersion: byVersion.map(([version, count]) => ({ version, count })),
});

describe('ageDays', () => {
  it('counts whole days since publication', () => {
    expect(ageDays('2026-11-01T06:00:00.000Z', NOW)).toBe(30);
    expect(ageDays('2026-11-01T06:00:01.000Z', NOW)).toBe(29);
    expect(ageDays(NOW, NOW)).toBe(0);
  });
});

describe('paceOf', () => {
  it('is the instances moved per hour since the first wave, and when the rest are done at that pace', () => {
    expect(paceOf({ moved: 4, since: '2026-12-01T04:00:00.000Z', remaining: 6, now: NOW })).toEqual({
      remaining: 6,
      perHour: 2,
      hoursLeft: 3,
      doneBy: '2026-12-01T09:00:00.000Z',
    });
  });

  it('has no pace before an instance moved or before the first wave started: no invented estimate', () => {
    expect(paceOf({ moved: 0, since: '2026-12-01T05:00:00.000Z', remaining: 6, now: NOW })).toEqual({
      remaining: 6,
    });
    expect(paceOf({ moved: 3, remaining: 6, now: NOW })).toEqual({ remaining: 6 });
    expect(paceOf({ moved: 3, since: NOW, remaining: 6, now: NOW })).toEqual({ remaining: 6 });
  });

  it('has nothing left once every instance is on the version', () => {
    expect(paceOf({ moved: 4, since: '2026-12-01T05:00:00.000Z', remaining: 0, now: NOW })).toEqual({
      remaining: 0,
      perHour: 4,
      hoursLeft: 0,
    });
  });
});

describe('scaleSetDrift', () => {
  it('gives each version it runs its age and the promoted versions newer than it', () => {
    const drift = scaleSetDrift({
      scaleSet: linux('vmss-a', [
        ['2026.12.1', 1],
        ['2026.10.1', 3],
        ['2026.9.1', 1],
        ['latest', 1],
      ]),
      versions,
      rollouts: [],
      now: NOW,
    });
    expect(drift).toEqual({
      latestPromoted: '2026.11.1',
      notOnLatest: 6,
      versions: [
        // Excluded from latest, so newer than the latest promoted: nothing promoted is newer.
        { version: '2026.12.1', count: 1, publishedDate: '2026-12-01T04:00:00.000Z', ageDays: 0, behind: 0 },
        { version: '2026.10.1', count: 3, publishedDate: '2026-10-02T07:00:00.000Z', ageDays: 59, behind: 1 },
        { version: '2026.9.1', count: 1, publishedDate: '2026-09-01T06:00:00.000Z', ageDays: 91, behind: 2 },
        // A definition reference: which version it booted is not known.
        { version: 'latest', count: 1 },
      ],
    });
    expect(drift.rollout).toBeUndefined();
  });

  it('leaves out what it cannot know: no promoted version, a version gone from the gallery', () => {
    const drift = scaleSetDrift({
      scaleSet: linux('vmss-a', [['2026.8.1', 2]]),
      versions: [{ version: '2026.12.1', state: 'excluded', tags: {} }],
      rollouts: [],
      now: NOW,
    });
    expect(drift).toEqual({ notOnLatest: 2, versions: [{ version: '2026.8.1', count: 2 }] });
  });

  it('gives the pace of the rollout moving it, and none for a scale set still queued', () => {
    const rollouts: RunningRollout[] = [
      {
        run: 'rollout-linux-agent-2026.11.1',
        version: '2026.11.1',
        scaleSets: [
          {
            name: 'vmss-a',
            state: 'rolling',
            phase: 'wave 3',
            onNewVersion: 4,
            firstWaveAt: '2026-12-01T04:00:00.000Z',
          },
          { name: 'vmss-b', state: 'queued', onNewVersion: 0 },
        ],
      },
    ];
    const a = scaleSetDrift({
      scaleSet: linux('vmss-a', [
        ['2026.11.1', 4],
        ['2026.10.1', 6],
      ]),
      versions,
      rollouts,
      now: NOW,
    });
    expect(a.rollout).toEqual({
      run: 'rollout-linux-agent-2026.11.1',
      version: '2026.11.1',
      state: 'rolling',
      phase: 'wave 3',
      onNewVersion: 4,
      remaining: 6,
      perHour: 2,
      hoursLeft: 3,
      doneBy: '2026-12-01T09:00:00.000Z',
    });
    const b = scaleSetDrift({
      scaleSet: linux('vmss-b', [['2026.10.1', 3]]),
      versions,
      rollouts,
      now: NOW,
    });
    expect(b.rollout).toEqual({
      run: 'rollout-linux-agent-2026.11.1',
      version: '2026.11.1',
      state: 'queued',
      onNewVersion: 0,
      remaining: 3,
    });
    expect(
      scaleSetDrift({ scaleSet: linux('vmss-c', [['2026.10.1', 3]]), versions, rollouts, now: NOW }).rollout,
    ).toBeUndefined();
  });

  it('says a scale set whose part of a running rollout ended moves no more: no pace, what is left', () => {
    const drift = scaleSetDrift({
      scaleSet: linux('lead', [
        ['2026.11.1', 3],
        ['2026.10.1', 1],
      ]),
      versions,
      rollouts: [
        {
          run: 'rollout-linux-agent-2026.11.1',
          version: '2026.11.1',
          scaleSets: [
            { name: 'lead', state: 'ended', onNewVersion: 3, firstWaveAt: '2026-12-01T03:00:00.000Z' },
            { name: 'b', state: 'rolling', onNewVersion: 0 },
          ],
        },
      ],
      now: NOW,
    });
    expect(drift.rollout).toEqual({
      run: 'rollout-linux-agent-2026.11.1',
      version: '2026.11.1',
      state: 'ended',
      onNewVersion: 3,
      remaining: 1,
    });
  });
});

describe('scaleSetCompliance', () => {
  const release = { version: '2.330.0', publishedAt: '2026-11-21T06:00:00.000Z' };

  it("checks each version's runner and puts first the one that needs attention", () => {
    const compliance = scaleSetCompliance({
      scaleSet: linux('vmss-a', [
        ['2026.11.1', 2],
        ['2026.10.1', 1],
        ['2026.9.1', 1],
      ]),
      versions,
      runnerRelease: release,
      agentVersion: '',
      now: NOW,
    });
    expect(compliance.kind).toBe('runner');
    expect(compliance.state).toBe('updateDue');
    expect(compliance.versions).toEqual([
      expect.objectContaining({ version: '2026.11.1', count: 2, state: 'current', installed: '2.330.0' }),
      expect.objectContaining({
        version: '2026.10.1',
        count: 1,
        state: 'updateDue',
        installed: '2.329.0',
        deadline: '2026-12-21T06:00:00.000Z',
        daysLeft: 20,
      }),
      expect.objectContaining({ version: '2026.9.1', count: 1, state: 'unknown' }),
    ]);
  });

  it('checks an Azure DevOps scale set against AGENT_VERSION', () => {
    const windows: DriftScaleSet = {
      name: 'win',
      image: 'windows',
      instancesByVersion: [{ version: '2026.10.1', count: 2 }],
    };
    const tagged: DriftVersion[] = [
      { version: '2026.10.1', state: 'promoted', tags: { 'kiln-agent-version': '4.269.0' } },
    ];
    const check = (agentVersion: string) =>
      scaleSetCompliance({
        scaleSet: windows,
        versions: tagged,
        runnerRelease: release,
        agentVersion,
        now: NOW,
      });
    expect(check('4.269.0')).toEqual({
      kind: 'agent',
      state: 'configured',
      versions: [
        {
          version: '2026.10.1',
          count: 2,
          state: 'configured',
          installed: '4.269.0',
          configured: '4.269.0',
          reason: 'as configured',
        },
      ],
    });
    expect(check('4.270.0').state).toBe('notConfigured');
    expect(check('').state).toBe('unknown');
  });

  it('has no state for a scale set without instances', () => {
    expect(
      scaleSetCompliance({
        scaleSet: linux('empty', []),
        versions,
        runnerRelease: release,
        agentVersion: '',
        now: NOW,
      }),
    ).toEqual({ kind: 'runner', versions: [] });
  });
});

describe('rolloutPaces', () => {
  it("adds up a rollout's scale sets: instances moved since its first wave, and when its whole fleet is done", () => {
    const paces = rolloutPaces({
      rollouts: [
        {
          run: 'rollout-linux-agent-2026.11.1',
          version: '2026.11.1',
          scaleSets: [
            // The lead ended: its moved instances count for the pace.
            { name: 'lead', state: 'ended', onNewVersion: 4, firstWaveAt: '2026-12-01T02:00:00.000Z' },
            { name: 'b', state: 'rolling', onNewVersion: 4, firstWaveAt: '2026-12-01T05:00:00.000Z' },
            { name: 'c', state: 'queued', onNewVersion: 0 },
          ],
        },
      ],
      scaleSets: [
        linux('lead', [['2026.11.1', 4]]),
        linux('b', [
          ['2026.11.1', 4],
          ['2026.10.1', 2],
        ]),
        linux('c', [['2026.10.1', 4]]),
        linux('not-in-the-rollout', [['2026.10.1', 9]]),
      ],
      now: NOW,
    });
    expect(paces).toEqual([
      {
        run: 'rollout-linux-agent-2026.11.1',
        version: '2026.11.1',
        scaleSets: ['lead', 'b', 'c'],
        instances: 14,
        moved: 8,
        since: '2026-12-01T02:00:00.000Z',
        remaining: 6,
        perHour: 2,
        hoursLeft: 3,
        doneBy: '2026-12-01T09:00:00.000Z',
      },
    ]);
  });
});
