import { describe, expect, it } from 'vitest';
import {
  groupByRegion,
  judgeLead,
  leftAsideReason,
  orderByRegion,
  overallState,
  pickLead,
  scaleSetsOfImage,
  selectTargets,
  type TargetScaleSet,
} from '../../../src/domain/rollout-targets.js';

const GALLERY = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images';
const scaleSet = (
  name: string,
  location = 'westeurope',
  definition = 'linux-agent',
  tags: Record<string, string> = {},
): TargetScaleSet & { image: string } => ({
  id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`,
  name,
  location,
  imageReferenceId: `${GALLERY}/${definition}/versions/2026.10.1`,
  tags,
  image: definition.startsWith('linux') ? 'linux' : 'windows',
});

describe('selectTargets', () => {
  const managed = [
    scaleSet('vmss-a'),
    scaleSet('vmss-b', 'northeurope', 'windows-agent'),
    scaleSet('vmss-c'),
  ];

  it('without a list, takes every managed scale set whose model uses the definition (any case)', () => {
    expect(selectTargets(managed, 'LINUX-AGENT', undefined)).toEqual({
      targets: [managed[0], managed[2]],
      outOfScope: [],
    });
    expect(selectTargets(managed, 'linux-agent', [])).toEqual({
      targets: [managed[0], managed[2]],
      outOfScope: [],
    });
  });

  it('with a list, takes the ones asked for by name or id in the order asked, whatever their image', () => {
    const { targets, outOfScope } = selectTargets(managed, 'linux-agent', [
      'VMSS-C',
      managed[1]!.id.toUpperCase(),
      'vmss-elsewhere',
    ]);
    expect(targets).toEqual([managed[2], managed[1]]);
    expect(outOfScope).toEqual(['vmss-elsewhere']);
  });

  it('gives back the very objects it was given (callers compare them by identity)', () => {
    expect(selectTargets(managed, 'linux-agent', ['vmss-a']).targets[0]).toBe(managed[0]);
  });
});

describe('scaleSetsOfImage', () => {
  it('takes scale sets built for the image or whose model uses its definition', () => {
    const marketplace = { ...scaleSet('vmss-m'), imageReferenceId: undefined };
    const foreignModel = { ...scaleSet('vmss-w', 'westeurope', 'windows-agent') };
    const onDefinition = { ...scaleSet('vmss-x', 'westeurope', 'Linux-Agent'), image: 'windows' };
    expect(scaleSetsOfImage([marketplace, foreignModel, onDefinition], 'linux', 'linux-agent')).toEqual([
      marketplace,
      onDefinition,
    ]);
  });
});

describe('orderByRegion', () => {
  it('orders by the place of the region in the order given, then by name; unknown regions last', () => {
    const sets = [
      scaleSet('vmss-z', 'westeurope'),
      scaleSet('vmss-y', 'eastus'),
      scaleSet('vmss-b', 'NorthEurope'),
      scaleSet('vmss-a', 'westeurope'),
    ];
    expect(orderByRegion(sets, ['northeurope', 'westeurope']).map((s) => s.name)).toEqual([
      'vmss-b',
      'vmss-a',
      'vmss-z',
      'vmss-y',
    ]);
  });

  it('without an order, orders by name and leaves its input alone', () => {
    const sets = [scaleSet('vmss-b'), scaleSet('vmss-a')];
    expect(orderByRegion(sets, undefined).map((s) => s.name)).toEqual(['vmss-a', 'vmss-b']);
    expect(sets.map((s) => s.name)).toEqual(['vmss-b', 'vmss-a']);
  });
});

describe('pickLead', () => {
  const canaryTag = { name: 'kiln-canary', value: 'true' };

  it('picks the scale set tagged as canary', () => {
    const sets = [
      scaleSet('vmss-a'),
      scaleSet('vmss-b', 'westeurope', 'linux-agent', { 'kiln-canary': 'true' }),
    ];
    expect(pickLead(sets, canaryTag)).toBe(sets[1]);
  });

  it('picks the first when none is tagged (a tag with another value does not count)', () => {
    const sets = [
      scaleSet('vmss-a'),
      scaleSet('vmss-b', 'westeurope', 'linux-agent', { 'kiln-canary': 'no' }),
    ];
    expect(pickLead(sets, canaryTag)).toBe(sets[0]);
  });

  it('picks nothing from nothing', () => {
    expect(pickLead([], canaryTag)).toBeUndefined();
  });
});

describe('groupByRegion', () => {
  it('groups consecutive scale sets of one region (any case), keeping the order', () => {
    const sets = [
      scaleSet('a', 'westeurope'),
      scaleSet('b', 'WestEurope'),
      scaleSet('c', 'northeurope'),
      scaleSet('d', 'westeurope'),
    ];
    expect(groupByRegion(sets).map((g) => g.map((s) => s.name))).toEqual([['a', 'b'], ['c'], ['d']]);
    expect(groupByRegion([])).toEqual([]);
  });
});

describe('overallState', () => {
  it.each([
    [['updated', 'updated'], 'succeeded'],
    [['updated', 'untouched'], 'succeeded'],
    [['untouched', 'refused'], 'skipped'],
    [[], 'skipped'],
    [['updated', 'pending'], 'partial'],
    [['updated', 'superseded'], 'partial'],
    [['pending', 'failed'], 'failed'],
    [['failed', 'rolledBack'], 'rolledBack'],
  ] as const)('%j ends %s', (states, expected) => {
    expect(
      overallState(
        states.map((state) => ({ state })),
        false,
      ),
    ).toBe(expected);
  });

  it('a scale set already on the version succeeded, though it moved nothing', () => {
    const alreadyOn = { state: 'untouched', alreadyOnVersion: true } as const;
    expect(overallState([alreadyOn], false)).toBe('succeeded');
    expect(overallState([alreadyOn, { state: 'untouched' }, { state: 'refused' }], false)).toBe('succeeded');
    expect(overallState([alreadyOn, { state: 'pending' }], false)).toBe('partial');
  });

  it('a dry run is planned whatever its scale sets say', () => {
    expect(overallState([{ state: 'failed' }], true)).toBe('planned');
  });
});

describe('judgeLead', () => {
  const lead = (
    state: Parameters<typeof judgeLead>[0]['state'],
    instancesUpdated = 0,
    unproven?: boolean,
  ) => ({
    state,
    instancesUpdated,
    ...(unproven ? { unproven } : {}),
  });

  it('halts the rollout on a lead that was rolled back or failed, proof or not', () => {
    for (const mustProve of [true, false]) {
      expect(judgeLead(lead('rolledBack', 2), mustProve)).toEqual({
        verdict: 'halt',
        what: 'was rolled back',
        state: 'rolledBack',
      });
      expect(judgeLead(lead('failed', 2), mustProve)).toEqual({
        verdict: 'halt',
        what: 'failed',
        state: 'failed',
      });
    }
  });

  it('lets the rest follow a lead that proved the version by moving an instance', () => {
    expect(judgeLead(lead('updated', 1), true)).toEqual({ verdict: 'restFollow' });
    expect(judgeLead(lead('pending', 1), true)).toEqual({ verdict: 'restFollow' });
  });

  it('lets the rest follow any lead that ended well when nothing needed proof (an undo, a proven version)', () => {
    expect(judgeLead(lead('untouched'), false)).toEqual({ verdict: 'restFollow' });
    expect(judgeLead(lead('superseded'), false)).toEqual({ verdict: 'restFollow' });
  });

  it('hands the lead on from a lead that changed nothing', () => {
    for (const state of ['untouched', 'refused', 'updated'] as const)
      expect(judgeLead(lead(state), true)).toEqual({ verdict: 'nextLeads' });
  });

  it('halts, partial, on a lead that changed its scale set without proving the version', () => {
    expect(judgeLead(lead('untouched', 0, true), true)).toEqual({
      verdict: 'halt',
      what: 'proved nothing',
      state: 'partial',
    });
    expect(judgeLead(lead('pending'), true)).toEqual({
      verdict: 'halt',
      what: 'proved nothing',
      state: 'partial',
    });
    expect(judgeLead(lead('superseded'), true)).toEqual({
      verdict: 'halt',
      what: 'was superseded before it proved anything',
      state: 'partial',
    });
  });
});

describe('leftAsideReason', () => {
  it('says each reason once, with the scale sets it held for, in order', () => {
    expect(
      leftAsideReason([
        { scaleSet: 'a', reason: 'it already runs the newer version 2026.12.5' },
        { scaleSet: 'b', reason: 'not a managed scale set: outside kiln scope (S2)' },
        { scaleSet: 'c', reason: 'it already runs the newer version 2026.12.5' },
      ]),
    ).toBe(
      'it already runs the newer version 2026.12.5 (a, c); not a managed scale set: outside kiln scope (S2) (b)',
    );
  });
});
