/**
 * Outside changes (`changes:`): what the parser makes of each action, their defaults and order, and
 * which instances exist for a deleteInstance. The refusals are in errors.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '../../../src/local/scenario/parse-scenario.js';
import { repoRoot } from './paths.js';

const parse = (text: string) => parseScenario(text, 'changes.yaml');

const HEAD = `
name: x
until: 2026-12-02T02:55:00Z   # 1440 minutes
images:
  linux: { unhealthy: true }
scaleSets:
  - { name: lin, image: linux, capacity: 2 }
  - { name: win, image: windows, capacity: 1 }
`;

describe('changes', () => {
  it('are none by default', () => {
    expect(parse('name: x').changes).toEqual([]);
    expect(parse('name: x\nchanges:\n').changes).toEqual([]);
    expect(parse('name: x\nchanges: []').changes).toEqual([]);
  });

  it('take the fields of their action, `at` as atMinutes, with every default', () => {
    const s = parse(`${HEAD}
changes:
  - { at: 1, action: scaleOut, scaleSet: lin, count: 3 }
  - { at: 2, action: scaleIn, scaleSet: win, count: 1 }
  - { at: 3, action: deleteInstance, instance: lin_4 }
  - { at: 4, action: setModel, scaleSet: lin, version: 2026.12.5 }
  - { at: 5, action: setModel, scaleSet: win, version: 2026.10.1, upgradeInstances: true }
  - { at: 6, action: deleteScaleSet, scaleSet: win }
  - { at: 7, action: deleteVersion, image: linux, version: 2026.10.1 }
  - { at: 8, action: publish, image: linux, version: 2026.12.5 }
  - { at: 9, action: publish, image: windows, version: 2026.12.5, excludeFromLatest: true }
  - { at: 10, action: publish, image: linux, version: 2026.12.6, unhealthy: false }
  - { at: 11, action: promote, image: windows, version: 2026.12.5 }
  - { at: 12, action: event, image: linux, version: 2026.12.6 }
`);
    expect(s.changes).toEqual([
      { atMinutes: 1, action: 'scaleOut', scaleSet: 'lin', count: 3 },
      { atMinutes: 2, action: 'scaleIn', scaleSet: 'win', count: 1 },
      { atMinutes: 3, action: 'deleteInstance', instance: 'lin_4' },
      { atMinutes: 4, action: 'setModel', scaleSet: 'lin', version: '2026.12.5', upgradeInstances: false },
      { atMinutes: 5, action: 'setModel', scaleSet: 'win', version: '2026.10.1', upgradeInstances: true },
      { atMinutes: 6, action: 'deleteScaleSet', scaleSet: 'win' },
      { atMinutes: 7, action: 'deleteVersion', image: 'linux', version: '2026.10.1' },
      // unhealthy defaults to the image's: linux is unhealthy in this scenario, windows is not.
      {
        atMinutes: 8,
        action: 'publish',
        image: 'linux',
        version: '2026.12.5',
        excludeFromLatest: false,
        unhealthy: true,
      },
      {
        atMinutes: 9,
        action: 'publish',
        image: 'windows',
        version: '2026.12.5',
        excludeFromLatest: true,
        unhealthy: false,
      },
      {
        atMinutes: 10,
        action: 'publish',
        image: 'linux',
        version: '2026.12.6',
        excludeFromLatest: false,
        unhealthy: false,
      },
      { atMinutes: 11, action: 'promote', image: 'windows', version: '2026.12.5' },
      { atMinutes: 12, action: 'event', image: 'linux', version: '2026.12.6' },
    ]);
  });

  it('are sorted by time, in file order within a minute', () => {
    const s = parse(`${HEAD}
changes:
  - { at: 30, action: event, image: linux, version: 2026.12.5 }
  - { at: 0, action: publish, image: linux, version: 2026.12.5 }
  - { at: 30, action: event, image: windows, version: 2026.12.5 }
  - { at: 0, action: publish, image: windows, version: 2026.12.5 }
  - { at: 10, action: scaleOut, scaleSet: lin, count: 1 }
  - { at: 30, action: deleteScaleSet, scaleSet: win }
`);
    expect(s.changes.map((c) => `${c.atMinutes} ${c.action} ${'image' in c ? c.image : ''}`)).toEqual([
      '0 publish linux',
      '0 publish windows',
      '10 scaleOut ',
      '30 event linux',
      '30 event windows',
      '30 deleteScaleSet ',
    ]);
  });

  it('may happen at the run’s last minute (things due at until still happen)', () => {
    const s = parse(`${HEAD}\nchanges: [{ at: 1440, action: deleteScaleSet, scaleSet: lin }]`);
    expect(s.changes[0]!.atMinutes).toBe(1440);
  });

  it('name the default scale sets when the file has none', () => {
    const s = parse('name: x\nchanges: [{ at: 5, action: scaleIn, scaleSet: vmss-ado-win, count: 2 }]');
    expect(s.changes).toEqual([{ atMinutes: 5, action: 'scaleIn', scaleSet: 'vmss-ado-win', count: 2 }]);
  });

  it('read YAML version numbers written without quotes as versions', () => {
    const s = parse(`${HEAD}\nchanges: [{ at: 5, action: setModel, scaleSet: lin, version: 2026.12.10 }]`);
    expect(s.changes[0]).toMatchObject({ version: '2026.12.10' });
  });
});

describe('deleteInstance', () => {
  it('deletes an instance within the capacity at any time', () => {
    expect(
      parse(`${HEAD}\nchanges: [{ at: 0, action: deleteInstance, instance: win_0 }]`).changes,
    ).toHaveLength(1);
  });

  it('reaches ids beyond the capacity that earlier scale-outs of its scale set added', () => {
    // lin has ids 0..1; the scale-outs at 10 and 20 add 2..3 and 4..6.
    const s = parse(`${HEAD}
changes:
  - { at: 25, action: deleteInstance, instance: lin_6 }
  - { at: 10, action: scaleOut, scaleSet: lin, count: 2 }
  - { at: 20, action: scaleOut, scaleSet: lin, count: 3 }
  - { at: 20, action: scaleOut, scaleSet: win, count: 9 }
  - { at: 20, action: deleteInstance, instance: lin_6 }
`);
    expect(s.changes.map((c) => [c.atMinutes, c.action])).toEqual([
      [10, 'scaleOut'],
      [20, 'scaleOut'],
      [20, 'scaleOut'],
      [20, 'deleteInstance'],
      [25, 'deleteInstance'],
    ]);
  });

  it('counts only the scale-outs of its own scale set', () => {
    expect(() =>
      parse(`${HEAD}
changes:
  - { at: 10, action: scaleOut, scaleSet: win, count: 5 }
  - { at: 20, action: deleteInstance, instance: lin_2 }
`),
    ).toThrow(/changes\[1\]\.instance .*instance id 2 does not exist by minute 20/);
  });
});

describe("the repository's scenarios", () => {
  const dir = join(repoRoot, 'scenarios', 'adversarial');
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('are there to test', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s parses', (file) => {
    const scenario = loadScenarioFile(join(dir, file));
    expect(scenario.name).toBe(file.replace(/\.(ya?ml|json)$/, ''));
    expect(scenario.expect.outcome.length).toBeGreaterThan(0);
  });
});
