import { describe, expect, it } from 'vitest';
import type { GalleryImageVersionInfo, ScaleSetInstance } from '../../../src/clients/types.js';
import {
  galleryVersionState,
  shapeFleet,
  versionLabel,
  type FleetInput,
  type FleetScaleSetInput,
} from '../../../src/domain/fleet.js';

const GALLERY = '/subscriptions/s/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/galKiln/images';
const vid = (definition: string, version: string) => `${GALLERY}/${definition}/versions/${version}`;

function scaleSet(name: string, fields: Partial<FleetScaleSetInput> = {}): FleetScaleSetInput {
  return {
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`,
    name,
    resourceGroup: 'rg',
    location: 'westeurope',
    tags: { 'kiln-managed': 'true' },
    orchestrationMode: 'Uniform',
    upgradeMode: 'Manual',
    computerNamePrefix: `${name}-`,
    osType: 'Linux',
    imageReferenceId: vid('linux-agent', '2026.11.1'),
    capacity: 3,
    image: 'linux',
    fleet: 'github',
    ...fields,
  };
}

function instance(set: string, n: number, imageReferenceId?: string): ScaleSetInstance {
  return {
    instanceId: String(n),
    name: `${set}_${n}`,
    computerName: `${set}-${String(n).padStart(6, '0')}`,
    latestModelApplied: true,
    provisioningState: 'Succeeded',
    ...(imageReferenceId ? { imageReferenceId } : {}),
  };
}

function version(name: string, fields: Partial<GalleryImageVersionInfo> = {}): GalleryImageVersionInfo {
  return {
    id: vid('linux-agent', name),
    name,
    provisioningState: 'Succeeded',
    excludeFromLatest: false,
    targetRegions: [
      { name: 'West Europe', replicas: 1 },
      { name: 'North Europe', replicas: 1 },
    ],
    tags: {},
    ...fields,
  };
}

function input(fields: Partial<FleetInput> = {}): FleetInput {
  return {
    now: '2026-12-01T03:00:00.000Z',
    scaleSets: [],
    instances: {},
    gallery: [],
    canaryTag: { name: 'kiln-canary', value: 'true' },
    errors: [],
    ...fields,
  };
}

describe('versionLabel', () => {
  it('names the exact version, "latest" for a definition, "marketplace" otherwise', () => {
    expect(versionLabel(vid('linux-agent', '2026.11.1'))).toBe('2026.11.1');
    expect(versionLabel(`${GALLERY}/linux-agent`)).toBe('latest');
    expect(versionLabel(undefined)).toBe('marketplace');
  });
});

describe('galleryVersionState', () => {
  it.each<[string, Partial<GalleryImageVersionInfo>, string]>([
    ['promoted', {}, 'promoted'],
    ['excluded from latest', { excludeFromLatest: true }, 'excluded'],
    ['being created', { provisioningState: 'Creating', excludeFromLatest: true }, 'replicating'],
    ['updating to more regions', { provisioningState: 'Updating' }, 'replicating'],
    [
      'replication not complete',
      { replication: { aggregatedState: 'InProgress', regions: [] } },
      'replicating',
    ],
    ['failed', { provisioningState: 'Failed' }, 'failed'],
    [
      'rejected by kiln (even while excluded)',
      { excludeFromLatest: true, tags: { 'kiln-state': 'rejected' } },
      'rejected',
    ],
  ])('%s', (_case, fields, expected) => {
    expect(galleryVersionState(version('2026.12.1', fields))).toBe(expected);
  });
});

describe('shapeFleet', () => {
  it('counts instances per version, newest first, and falls back to the model for an instance without its own reference', () => {
    const s = scaleSet('vmss-a', { tags: { 'kiln-managed': 'true', 'kiln-canary': 'true' } });
    const view = shapeFleet(
      input({
        scaleSets: [s],
        instances: {
          [s.id]: [
            instance('vmss-a', 0, vid('linux-agent', '2026.9.1')),
            instance('vmss-a', 1, vid('linux-agent', '2026.11.1')),
            instance('vmss-a', 2),
            instance('vmss-a', 3, `${GALLERY}/linux-agent`),
            instance('vmss-a', 4, vid('linux-agent', '2026.10.1')),
          ],
        },
      }),
    );
    expect(view.scaleSets[0]).toMatchObject({
      name: 'vmss-a',
      canary: true,
      modelVersion: '2026.11.1',
      instances: 5,
      instancesByVersion: [
        { version: '2026.11.1', count: 2 },
        { version: '2026.10.1', count: 1 },
        { version: '2026.9.1', count: 1 },
        { version: 'latest', count: 1 },
      ],
    });
  });

  it('matches runners and agents to scale sets by exact computer-name shape (S2) and counts online, busy, offline', () => {
    const gh = scaleSet('vmss-gh');
    const gh2 = scaleSet('vmss-gh-big');
    const win = scaleSet('win', {
      image: 'windows',
      fleet: 'ado',
      computerNamePrefix: 'win',
      osType: 'Windows',
    });
    const view = shapeFleet(
      input({
        scaleSets: [gh, gh2, win],
        runners: [
          { id: 1, name: 'vmss-gh-000001', status: 'online', busy: true, labels: [] },
          { id: 2, name: 'vmss-gh-000002', status: 'online', busy: false, labels: [] },
          { id: 3, name: 'vmss-gh-00000z', status: 'offline', busy: false, labels: [] },
          // Longest prefix wins: this one is vmss-gh-big's.
          { id: 4, name: 'vmss-gh-big-000001', status: 'online', busy: false, labels: [] },
          // Not a computer name the scale set can give: foreign, counted nowhere.
          { id: 5, name: 'vmss-gh-my-laptop', status: 'online', busy: false, labels: [] },
          { id: 6, name: 'win000001', status: 'online', busy: false, labels: [] },
        ],
        agents: [
          { id: 7, name: 'win000001', status: 'online', enabled: true, busy: true, poolId: 1 },
          { id: 8, name: 'win000002', status: 'offline', enabled: true, busy: false, poolId: 1 },
        ],
      }),
    );
    const by = Object.fromEntries(view.scaleSets.map((s) => [s.name, s.runners]));
    expect(by['vmss-gh']).toEqual({ online: 2, busy: 1, offline: 1 });
    expect(by['vmss-gh-big']).toEqual({ online: 1, busy: 0, offline: 0 });
    // A GitHub runner named like a Windows instance is not an Azure DevOps agent.
    expect(by.win).toEqual({ online: 1, busy: 1, offline: 1 });
    expect(view.scaleSets.map((s) => s.name)).toEqual(['vmss-gh', 'vmss-gh-big', 'win']);
  });

  it('gives each gallery version its state, regions with replication state, kiln tag and the scale sets on it', () => {
    const s = scaleSet('vmss-a');
    const view = shapeFleet(
      input({
        scaleSets: [s],
        gallery: [
          {
            image: 'linux',
            definition: 'linux-agent',
            versions: [
              version('2026.10.1'),
              version('2026.11.1'),
              version('2026.12.1', {
                provisioningState: 'Updating',
                excludeFromLatest: true,
                tags: { 'kiln-state': 'replicating' },
                replication: {
                  aggregatedState: 'InProgress',
                  regions: [
                    { region: 'West Europe', state: 'Completed' },
                    { region: 'North Europe', state: 'Replicating', progress: 40 },
                  ],
                },
              }),
            ],
          },
          { image: 'windows', definition: 'windows-agent', versions: undefined },
        ],
      }),
    );
    const linux = view.images[0]!;
    expect(linux.versions.map((v) => [v.version, v.state, v.usedBy])).toEqual([
      ['2026.12.1', 'replicating', []],
      ['2026.11.1', 'promoted', ['vmss-a']],
      ['2026.10.1', 'promoted', []],
    ]);
    expect(linux.versions[0]).toMatchObject({
      kilnState: 'replicating',
      excludeFromLatest: true,
      regions: [
        { region: 'West Europe', state: 'Completed' },
        { region: 'North Europe', state: 'Replicating' },
      ],
    });
    expect(linux.versions[1]!.regions).toEqual([{ region: 'West Europe' }, { region: 'North Europe' }]);
    expect(view.images[1]).toEqual({ image: 'windows', definition: 'windows-agent', versions: [] });
  });

  it('carries the read errors and the time; without the running rollouts read, it says nothing of them', () => {
    const view = shapeFleet(input({ errors: ['could not read the GitHub runners: 401'] }));
    expect(view).toEqual({
      generatedAt: '2026-12-01T03:00:00.000Z',
      scaleSets: [],
      images: [],
      agentVersion: '',
      errors: ['could not read the GitHub runners: 401'],
    });
  });

  it("gives each scale set its drift, its runner's compliance and its rollout's pace, from its model's gallery image", () => {
    const s = scaleSet('vmss-a', { imageReferenceId: vid('linux-agent', '2026.11.1'), capacity: 2 });
    const published = '2026-11-01T03:00:00.000Z';
    const view = shapeFleet(
      input({
        scaleSets: [s],
        instances: {
          [s.id]: [
            instance('vmss-a', 0, vid('linux-agent', '2026.11.1')),
            instance('vmss-a', 1, vid('linux-agent', '2026.10.1')),
          ],
        },
        gallery: [
          // Another definition of the same kind: the scale set's model names linux-agent.
          { image: 'linux', definition: 'linux-other', versions: [version('2026.12.1')] },
          {
            image: 'linux',
            definition: 'linux-agent',
            versions: [
              version('2026.10.1', { publishedDate: published, tags: { 'kiln-runner-version': '2.329.0' } }),
              version('2026.11.1', { publishedDate: published, tags: { 'kiln-runner-version': '2.330.0' } }),
            ],
          },
        ],
        runnerRelease: { version: '2.330.0', publishedAt: '2026-11-21T03:00:00.000Z' },
        agentVersion: '4.269.0',
        rollouts: [
          {
            run: 'rollout-linux-agent-2026.11.1',
            version: '2026.11.1',
            scaleSets: [
              { name: 'vmss-a', state: 'rolling', onNewVersion: 1, firstWaveAt: '2026-12-01T02:00:00.000Z' },
            ],
          },
        ],
      }),
    );
    const a = view.scaleSets[0]!;
    expect(a.drift).toMatchObject({
      latestPromoted: '2026.11.1',
      notOnLatest: 1,
      versions: [
        { version: '2026.11.1', count: 1, ageDays: 30, behind: 0 },
        { version: '2026.10.1', count: 1, ageDays: 30, behind: 1 },
      ],
      rollout: {
        version: '2026.11.1',
        remaining: 1,
        perHour: 1,
        hoursLeft: 1,
        doneBy: '2026-12-01T04:00:00.000Z',
      },
    });
    expect(a.compliance.state).toBe('updateDue');
    expect(a.compliance.versions.map((v) => [v.version, v.state, v.installed])).toEqual([
      ['2026.11.1', 'current', '2.330.0'],
      ['2026.10.1', 'updateDue', '2.329.0'],
    ]);
    expect(view.runnerRelease).toEqual({ version: '2.330.0', publishedAt: '2026-11-21T03:00:00.000Z' });
    expect(view.agentVersion).toBe('4.269.0');
    expect(view.rollouts).toEqual([
      expect.objectContaining({ run: 'rollout-linux-agent-2026.11.1', scaleSets: ['vmss-a'], remaining: 1 }),
    ]);
  });

  it("shows an autoscaled scale set's tags and the autoscaler's last look; nothing for one without capacity tags", () => {
    const look = {
      scaleSet: 'vmss-auto',
      desired: 4,
      reason: 'demand: 4 wanted (busy 2 + queued 1 + warm 1 from kiln-warm); has 3 (0 idle)',
      queued: 1,
      counts: { busy: 2, idle: 0, booting: 1, vacant: 0, unknown: 0, total: 3 },
      capacity: { from: 3, to: 4 },
      removed: [],
      reimaged: [],
    };
    const view = shapeFleet(
      input({
        scaleSets: [
          scaleSet('vmss-auto', { tags: { 'kiln-managed': 'true', 'kiln-max': '10', 'kiln-warm': '1' } }),
          scaleSet('vmss-bad', { tags: { 'kiln-managed': 'true', 'kiln-min': '5', 'kiln-max': '2' } }),
          scaleSet('vmss-fixed'),
        ],
        autoscale: { at: '2026-12-02T10:00:00.000Z', scaleSets: [look] },
      }),
    );
    const of = (name: string) => view.scaleSets.find((s) => s.name === name)!.autoscale;
    expect(of('vmss-auto')).toEqual({
      policy: { min: 0, max: 10, warm: 1, idleMinutes: 10, warmSchedule: [] },
      lastLook: { ...look, at: '2026-12-02T10:00:00.000Z' },
    });
    expect(of('vmss-bad')!.problems![0]).toMatch(/kiln-min="5" is above kiln-max="2"/);
    expect(of('vmss-bad')!.lastLook).toBeUndefined();
    expect(of('vmss-fixed')).toBeUndefined();
  });
});
