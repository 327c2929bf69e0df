/**
 * Every world `kiln explore` found breaking an invariant, once fixed, stays under test: the shrunk
 * scenarios of `scenarios/found/` must run with no violation and end as they expect. A few carry a
 * check of their own on the world's state.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeCloud } from '../../src/local/fake-cloud/index.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import { formatViolation } from '../../src/local/contracts/index.js';
import { exitCodeFor, type SimulationReport } from '../../src/local/simulate/report.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

const DIR = resolve(import.meta.dirname, '..', '..', 'scenarios', 'found');
const versions = (cloud: FakeCloud, scaleSet: string) =>
  [...cloud.world.findScaleSet(scaleSet)!.instances.values()].map((i) => i.imageId.split('/').at(-1));

const CHECKS: Record<string, (report: SimulationReport, cloud: FakeCloud) => void> = {
  'outside-model-back-instances-newer': (report, cloud) => {
    expect(versions(cloud, 'vmss-ado-a')).toEqual(['2026.10.1']);
    expect(report.scaleSets['vmss-ado-a']).toMatchObject({ state: 'pending' });
    expect(report.scaleSets['vmss-ado-a']!.reason).toMatch(
      /newer version than 2026\.8\.5 and are not moved back/,
    );
  },
  'canary-undo-beside-outside-rollout': (report, cloud) => {
    expect(report.images.linux).toMatchObject({ state: 'failed', version: '2026.12.2' });
    expect(report.images.linux!.reason).toMatch(/the canary vmss-gh-a is back on 2026\.12\.1/);
    expect(cloud.world.findScaleSet('vmss-gh-a')!.imageId.split('/').at(-1)).toBe('2026.12.1');
  },
  'outside-publishes-kiln-name': (report, cloud) => {
    expect(report.images.linux).toMatchObject({ state: 'promoted', version: '2026.12.2' });
    expect(cloud.world.versions.get('linux/2026.12.1')?.tags).toEqual({ publishedBy: 'platform-team' });
  },
};

describe('worlds kiln explore found (scenarios/found)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

  it('holds the checked worlds', () => {
    for (const name of Object.keys(CHECKS)) expect(files).toContain(`${name}.yaml`);
  });

  it.each(files)(
    '%s: no invariant broken, an expected end',
    async (file) => {
      const result = await runSimulation(loadScenarioFile(resolve(DIR, file)), { keepRunning: true });
      await result.close();
      expect(result.report.violations).toEqual([]);
      // With the Bicep's roles, and every exchange within the official API descriptions.
      expect(result.report.authorizationFailures).toEqual([]);
      expect([...new Set(result.report.contractViolations.map(formatViolation))]).toEqual([]);
      expect(exitCodeFor(result.report)).toBe(0);
      // The critical path is a lower bound of every run (issue 20).
      expect(result.report.virtualMinutes).toBeGreaterThanOrEqual(result.report.criticalPathMinutes);
      CHECKS[file.replace(/\.yaml$/, '')]?.(result.report, result.cloud);
    },
    120_000,
  );
});
