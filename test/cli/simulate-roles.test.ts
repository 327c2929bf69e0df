/**
 * `kiln simulate --roles`: the fake cloud enforces the role assignments of a compiled template, as
 * Azure would. With kiln's own Bicep every shipped scenario passes with no refusal (and the managed
 * image of each build is deleted after it is published); with a template that lacks the
 * orchestrator's role on the Linux scale sets, the run is refused, says what and where, and leaves
 * nothing half-changed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCENARIOS = resolve(ROOT, 'scenarios');
const PROJECT_TEMPLATE = resolve(ROOT, 'infra', 'generated', 'main.json');

function kiln(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['bin/kiln.js', ...args],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** kiln's compiled template without the orchestrator's role on the Linux scale sets. */
function templateWithoutLinuxScaleSetRole(): string {
  const template = JSON.parse(readFileSync(PROJECT_TEMPLATE, 'utf8'));
  const inner = template.resources.linuxRunners.properties.template.resources;
  expect(inner.roles?.type).toBe('Microsoft.Authorization/roleAssignments');
  delete inner.roles;
  const file = join(mkdtempSync(join(tmpdir(), 'kiln-roles-')), 'main.json');
  writeFileSync(file, JSON.stringify(template));
  return file;
}

describe('kiln simulate --roles', () => {
  for (const name of ['monthly-small', 'busy-and-ghosts', 'bad-image']) {
    it(`${name}: kiln's own roles, nothing refused, exit 0, managed images deleted after publish`, async () => {
      const { code, stdout, stderr } = await kiln([
        'simulate',
        '--scenario',
        join(SCENARIOS, `${name}.yaml`),
        '--report',
        'json',
      ]);
      expect(code, stderr).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.authorizationFailures).toEqual([]);
      expect(report.violations).toEqual([]);
      for (const image of Object.values(report.images) as { leftBehind?: string[] }[])
        expect(image.leftBehind).toBeUndefined();
      const published = report.events.filter((e: { message: string }) =>
        /deleted managed image/.test(e.message),
      );
      expect(published.length).toBe(Object.keys(report.images).length);
    });
  }

  it('without the orchestrator role on a scale set: exit 1, the refusal named, nothing half-changed', async () => {
    const { code, stdout, stderr } = await kiln([
      'simulate',
      '--scenario',
      join(SCENARIOS, 'busy-and-ghosts.yaml'),
      '--roles',
      templateWithoutLinuxScaleSetRole(),
      '--report',
      'json',
    ]);
    expect(code, stderr).toBe(1);
    const report = JSON.parse(stdout);
    const refusals = report.authorizationFailures as {
      identity: string;
      action: string;
      scope: string;
      code: string;
    }[];
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((f) => f.identity === 'id-kiln-orchestrator')).toBe(true);
    expect(refusals.every((f) => f.code === 'AuthorizationFailed')).toBe(true);
    expect(refusals.every((f) => /virtualMachineScaleSets\/vmss-gh-linux-(weu|neu)$/.test(f.scope))).toBe(
      true,
    );
    // The report says which action on which scope was refused.
    const said =
      JSON.stringify(report.rollouts) + JSON.stringify(report.images) + JSON.stringify(report.scaleSets);
    expect(said).toMatch(
      /refused Microsoft\.Compute\/virtualMachineScaleSets\/\S+ on \/subscriptions\/[^ ]+\/virtualMachineScaleSets\/vmss-gh-linux-(weu|neu)/,
    );
    // Nothing half-changed: every scale set runs a promoted version, no version kiln made is left unpromoted.
    expect(report.violations).toEqual([]);
    expect(report.scaleSets['vmss-gh-linux-weu'].version).toBe('2026.10.1');
    expect(report.scaleSets['vmss-gh-linux-neu'].version).toBe('2026.10.1');
  });

  it('a roles file that is not a template: exit 2 with the reason', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-roles-')), 'bad.json');
    writeFileSync(file, '{"not": "a template"}');
    const { code, stderr } = await kiln(['simulate', '--roles', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/roles: .*bad\.json/);
    const missing = await kiln(['simulate', '--roles', join(tmpdir(), 'no-such-template.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
