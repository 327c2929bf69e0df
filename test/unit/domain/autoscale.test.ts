import { describe, expect, it } from 'vitest';
import type { ScaleSetInstance } from '../../../src/clients/types.js';
import { parseCapacityTags, type CapacityPolicy } from '../../../src/domain/capacity.js';
import {
  planAutoscale,
  type AutoscaleInput,
  type AutoscaleRegistration,
  type AutoscaleScaleSet,
} from '../../../src/domain/autoscale.js';

const NOW = '2026-12-02T10:00:00.000Z';
const MODEL =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/linux/versions/2026.12.1';
const OLD = MODEL.replace('2026.12.1', '2026.11.1');

function policy(tags: Record<string, string>): CapacityPolicy {
  const parsed = parseCapacityTags(tags);
  if (!parsed.ok || !parsed.policy) throw new Error('bad tags');
  return parsed.policy;
}

const minutesAgo = (m: number) => new Date(Date.parse(NOW) - m * 60_000).toISOString();

function instance(id: number, fields: Partial<ScaleSetInstance> = {}, set = 'gh'): ScaleSetInstance {
  return {
    instanceId: String(id),
    name: `${set}_${id}`,
    computerName: `${set}-${id}`,
    latestModelApplied: true,
    provisioningState: 'Succeeded',
    provisionedAt: minutesAgo(60),
    imageReferenceId: MODEL,
    ...fields,
  };
}

function runner(id: number, fields: Partial<AutoscaleRegistration> = {}, set = 'gh'): AutoscaleRegistration {
  return { id: 1000 + id, name: `${set}-${id}`, status: 'online', busy: false, ...fields };
}

function scaleSet(
  instances: ScaleSetInstance[],
  tags: Record<string, string>,
  name = 'gh',
): AutoscaleScaleSet {
  return {
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`,
    name,
    fleet: 'github',
    policy: policy(tags),
    labels: ['self-hosted', 'linux'],
    model: MODEL,
    instances,
  };
}

function plan(fields: Partial<AutoscaleInput> & Pick<AutoscaleInput, 'scaleSets'>) {
  return planAutoscale({
    runners: [],
    agents: [],
    githubQueued: [],
    adoQueued: 0,
    now: NOW,
    bootDeadlineMinutes: 20,
    ...fields,
  });
}

const job = (id: number, labels = ['self-hosted', 'linux']) => ({
  id,
  repository: 'org/app',
  labels,
  queuedAt: minutesAgo(1),
});

describe('planAutoscale', () => {
  it('scales out to busy + queued + warm', () => {
    const p = plan({
      scaleSets: [scaleSet([instance(0), instance(1)], { 'kiln-warm': '1', 'kiln-max': '10' })],
      runners: [runner(0, { busy: true }), runner(1, { busy: true })],
      githubQueued: [job(1), job(2), job(3)],
    }).plans[0]!;
    expect(p.desired.desired).toBe(6);
    expect(p.capacityTo).toBe(6);
    expect(p.remove).toEqual([]);
  });

  it('never raises capacity above max, and says max held it back', () => {
    const p = plan({
      scaleSets: [scaleSet([instance(0)], { 'kiln-max': '3' })],
      runners: [runner(0, { busy: true })],
      githubQueued: [job(1), job(2), job(3), job(4), job(5)],
    }).plans[0]!;
    expect(p.capacityTo).toBe(3);
    expect(p.desired.decidedBy).toBe('max');
  });

  it('keeps min even with no demand', () => {
    const p = plan({ scaleSets: [scaleSet([], { 'kiln-min': '2' })] }).plans[0]!;
    expect(p.capacityTo).toBe(2);
  });

  it('removes only instances idle long enough, never a busy one', () => {
    const p = plan({
      scaleSets: [
        scaleSet([instance(0), instance(1), instance(2)], { 'kiln-min': '0', 'kiln-idle-minutes': '10' }),
      ],
      runners: [runner(0, { busy: true }), runner(1), runner(2)],
      memory: { seen: {}, idleSince: { 'gh-1': minutesAgo(30), 'gh-2': minutesAgo(3) } },
    }).plans[0]!;
    expect(p.remove.map((r) => r.instanceId)).toEqual(['1']);
    expect(p.remove[0]!.registrationIds).toEqual([1001]);
    expect(p.note).toMatch(/1 idle for less than 10 min/);
  });

  it('never scales in below desired because of a broken instance (it is no capacity)', () => {
    const p = plan({
      scaleSets: [
        scaleSet([instance(0), instance(1), instance(2), instance(3, { provisioningState: 'Failed' })], {
          'kiln-warm': '1',
          'kiln-idle-minutes': '0',
        }),
      ],
      runners: [runner(0, { busy: true }), runner(1), runner(2)],
      memory: { seen: {}, idleSince: { 'gh-1': minutesAgo(30), 'gh-2': minutesAgo(30) } },
    }).plans[0]!;
    // busy 1 + warm 1: of the two idle ones, one goes; the broken one counts for nothing.
    expect(p.counts.broken).toBe(1);
    expect(p.desired.desired).toBe(2);
    expect(p.remove.map((r) => r.instanceId)).toEqual(['1']);
  });

  it('removes old-model idle instances first (attrition to the new image)', () => {
    const p = plan({
      scaleSets: [
        scaleSet([instance(0), instance(1, { latestModelApplied: false, imageReferenceId: OLD })], {
          'kiln-warm': '1',
        }),
      ],
      runners: [runner(0), runner(1)],
      memory: { seen: {}, idleSince: { 'gh-0': minutesAgo(60), 'gh-1': minutesAgo(20) } },
    }).plans[0]!;
    expect(p.remove.map((r) => [r.instanceId, r.oldModel])).toEqual([['1', true]]);
  });

  it('counts every instance as busy when the runners cannot be read, and removes nothing', () => {
    const p = plan({
      scaleSets: [scaleSet([instance(0), instance(1)], { 'kiln-min': '0' })],
      runners: null,
    }).plans[0]!;
    expect(p.counts.unknown).toBe(2);
    expect(p.remove).toEqual([]);
    expect(p.desired.desired).toBe(2);
  });

  it('scales in nothing while the queue is unknown, but still scales out for busy + warm', () => {
    const idle = plan({
      scaleSets: [scaleSet([instance(0), instance(1)], { 'kiln-min': '0' })],
      runners: [runner(0), runner(1)],
      githubQueued: null,
      memory: { seen: {}, idleSince: { 'gh-0': minutesAgo(60), 'gh-1': minutesAgo(60) } },
    }).plans[0]!;
    expect(idle.remove).toEqual([]);
    expect(idle.note).toMatch(/queue could not be read/);
    const busy = plan({
      scaleSets: [scaleSet([instance(0)], { 'kiln-warm': '2' })],
      runners: [runner(0, { busy: true })],
      githubQueued: null,
    }).plans[0]!;
    expect(busy.capacityTo).toBe(3);
  });

  it('reimages vacant instances on the current model before adding new ones, and deletes old vacant ones', () => {
    const p = plan({
      scaleSets: [
        scaleSet(
          [instance(0), instance(1), instance(2, { latestModelApplied: false, imageReferenceId: OLD })],
          { 'kiln-max': '10' },
        ),
      ],
      runners: [],
      githubQueued: [job(1), job(2), job(3)],
      // Each had a runner in its current provisioning: an ephemeral runner whose job is done.
      memory: {
        seen: { 'gh-0': minutesAgo(60), 'gh-1': minutesAgo(60), 'gh-2': minutesAgo(60) },
        idleSince: {},
      },
    }).plans[0]!;
    expect(p.counts.vacant).toBe(3);
    expect(p.reimage.map((i) => i.instanceId)).toEqual(['0', '1']);
    expect(p.remove.map((i) => [i.instanceId, i.why])).toEqual([['2', 'vacant']]);
    // Three wanted, two come back by reimage, one new after the old one goes.
    expect(p.capacityTo).toBe(3);
  });

  it('waits for a booting instance within the boot deadline, calls it vacant after', () => {
    const young = instance(0, { provisionedAt: minutesAgo(5) });
    const old = instance(1, { provisionedAt: minutesAgo(25) });
    const p = plan({ scaleSets: [scaleSet([young, old], { 'kiln-min': '0' })] }).plans[0]!;
    expect(p.counts.booting).toBe(1);
    expect(p.counts.vacant).toBe(1);
    expect(p.remove.map((i) => i.instanceId)).toEqual(['1']);
  });

  it('gives each queued job to one scale set that serves it, spreading by room under max', () => {
    const a = scaleSet([], { 'kiln-max': '2' }, 'a');
    const b = scaleSet([], { 'kiln-max': '5' }, 'b');
    const windows = { ...scaleSet([], { 'kiln-max': '5' }, 'c'), labels: ['self-hosted', 'windows'] };
    const result = plan({
      scaleSets: [a, b, windows],
      githubQueued: [job(1), job(2), job(3), job(4), job(5, ['self-hosted', 'macos'])],
    });
    const queued = Object.fromEntries(result.plans.map((p) => [p.scaleSet, p.queued]));
    expect(queued).toEqual({ a: 1, b: 3, c: 0 });
    expect(result.unservedJobs).toBe(1);
  });

  it('remembers which instances had a runner and since when they are idle, and forgets gone ones', () => {
    const result = plan({
      scaleSets: [scaleSet([instance(0), instance(1)], { 'kiln-min': '2' })],
      runners: [runner(0), runner(1, { busy: true })],
      memory: { seen: { 'gh-9': minutesAgo(99) }, idleSince: { 'gh-9': minutesAgo(99) } },
    });
    expect(result.memory.seen).toEqual({ 'gh-0': minutesAgo(60), 'gh-1': minutesAgo(60) });
    expect(result.memory.idleSince).toEqual({ 'gh-0': NOW });
  });
});
