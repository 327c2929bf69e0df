/**
 * Pruning deletes what is unused when it deletes it (S3): the versions planned from an earlier read
 * are checked again right before the delete, and one a scale set moved onto meanwhile is kept.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeleteVersionsActivity } from '../../src/activities/rebuild.js';
import { getRuntime, resetRuntime } from '../../src/functions/runtime.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
const savedEnv = { ...process.env };

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      gallery: {
        regions: ['westeurope'],
        existingVersions: {
          linux: ['2026.6.1', '2026.7.1', '2026.8.1', '2026.9.1', '2026.10.1'],
          windows: ['2026.10.1'],
        },
      },
    }),
  );
  Object.assign(process.env, t.cloud.env, { CLIENT_RETRY_BASE_MS: '1' });
  resetRuntime();
});

afterAll(async () => {
  process.env = savedEnv;
  resetRuntime();
  await t?.close();
});

it('keeps a planned version that a scale set uses by the time of the delete', async () => {
  const world = t.cloud.world;
  // Planned from a read where nothing used 2026.7.1; since then someone moved a scale set onto it.
  world.asOutside(() =>
    world.updateModel(world.findScaleSet('vmss-gh-linux-weu')!, {
      imageId: world.versionId('linux', '2026.7.1'),
    }),
  );
  const prune = createDeleteVersionsActivity(getRuntime());
  const result = await prune({
    definition: 'linux-agent',
    versions: ['2026.6.1', '2026.7.1'],
    unusedOnly: true,
  });
  expect(result).toEqual({ ok: true, value: ['2026.6.1'] });
  expect(world.versions.has('linux/2026.7.1')).toBe(true);
  expect(world.versions.has('linux/2026.6.1')).toBe(false);
  expect(world.ledger.violations).toEqual([]);
});
