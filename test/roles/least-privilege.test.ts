/**
 * Least privilege, proven both ways on kiln's own compiled Bicep (infra/generated/main.json):
 * - with exactly its role assignments, the world where every flow runs (scenarios/least-privilege.yaml)
 *   ends as expected with no request refused;
 * - with each assignment removed in turn, some flow fails or an invariant breaks, and the table of
 *   what fails without which assignment is the one infra/README.md keeps. An assignment whose removal
 *   changes nothing is not needed: the test fails until it goes (or, for the few the simulation
 *   cannot see, until the list below says which real component uses it).
 *
 * Slow (one simulation per assignment): run by `npm run test:roles`, part of `npm run test:all`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_TEMPLATE } from '../../src/local/fake-cloud/role-source.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import { exitCodeFor, type SimulationReport } from '../../src/local/simulate/report.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { roleName } from '../../src/rbac/built-in-roles.js';
import {
  KILN_TEMPLATE_PARAMETERS,
  readTemplateRoles,
  type TemplateRoleAssignment,
} from '../../src/rbac/template-roles.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCENARIO = loadScenarioFile(resolve(ROOT, 'scenarios', 'least-privilege.yaml'));

/**
 * Assignments no simulated flow can use, and the real component that does. Nothing else may be
 * missing from the simulation's proof.
 */
const USED_OUTSIDE_THE_SIMULATION: Record<string, string> = {
  'storage > roles[0]': 'the Functions host and the Durable task hub (blobs) run on Azure Storage',
  'storage > roles[1]': 'the Durable task hub (queues) runs on Azure Storage',
  'storage > roles[2]':
    "the Durable task hub (history and instance tables) and the registration broker's record of issued registrations run on Azure Storage",
  'monitoring > appInsightsRoles[0]': "the Functions host sends the app's telemetry with its identity",
};

const assignments: TemplateRoleAssignment[] = readTemplateRoles(
  JSON.parse(readFileSync(PROJECT_TEMPLATE, 'utf8')),
  KILN_TEMPLATE_PARAMETERS,
  { subscriptionId: '00000000-0000-4000-8000-00000000c0de', tenantId: 'x', location: 'westeurope' },
).assignments;

async function simulate(omit: string[] = []): Promise<SimulationReport> {
  const result = await runSimulation(SCENARIO, {
    roles: { omit },
    keepRunning: true,
    settings: { CLIENT_RETRY_BASE_MS: '1' },
  });
  await result.close();
  return result.report;
}

/** What each flow of the run came to, in words that change when a flow fails. */
function flows(report: SimulationReport): Map<string, string> {
  const out = new Map<string, string>();
  for (const [image, i] of Object.entries(report.images)) out.set(`rebuild ${image}`, i.state);
  for (const r of report.rollouts) {
    const name = `${r.source === 'eventgrid' ? 'Event Grid' : r.source} rollout ${r.definition} ${r.version}`;
    let key = name;
    for (let n = 2; out.has(key); n++) key = `${name} (#${n})`;
    out.set(key, r.state);
  }
  out.set(
    'cleanup',
    report.hygiene.errors.length === 0 ? 'clean' : `${report.hygiene.errors.length} error(s)`,
  );
  return out;
}

const unique = (xs: string[]) => [...new Set(xs)];
const shortScope = (scope: string) =>
  scope
    .replace(/^\/subscriptions\/[^/]+/, '')
    .replace(/(st|kv-|appi-kiln-|cr)[a-z0-9]{13}\b/g, '$1<token>') || '(the subscription)';
const principal = (a: TemplateRoleAssignment) =>
  a.principal.kind === 'identity' ? a.principal.name.replace(/^id-kiln-/, '') : a.principal.value;

describe('least privilege: the roles of infra/main.bicep', () => {
  let baseline: SimulationReport;
  const rows: string[] = [];

  beforeAll(async () => {
    baseline = await simulate();
  }, 300_000);

  it('every flow passes with exactly the Bicep role assignments, and nothing is refused', () => {
    expect(baseline.authorizationFailures).toEqual([]);
    expect(baseline.violations).toEqual([]);
    expect(exitCodeFor(baseline)).toBe(0);
    // The world really runs every flow the roles are for.
    expect(baseline.images.linux?.state).toBe('promoted');
    expect(baseline.images.windows?.state).toBe('promoted');
    expect(baseline.rollouts.some((r) => r.source === 'eventgrid' && r.state === 'succeeded')).toBe(true);
    expect(baseline.deleted.galleryVersions.length).toBeGreaterThan(0);
    expect(baseline.hygiene.decisions.removeRunners.length).toBeGreaterThan(0);
  });

  it('each assignment removed in turn: some flow fails, or a real component outside the simulation uses it', async () => {
    const before = flows(baseline);
    const unneeded: string[] = [];
    for (const a of assignments) {
      const what = `${principal(a)} | ${roleName(a.roleDefinitionId)} | \`${shortScope(a.scope)}\``;
      const outside = USED_OUTSIDE_THE_SIMULATION[a.source];
      const report = await simulate([a.source]);
      // The flows that did not end as they did with every role (a restore that only happens
      // after a failure is not news).
      const changed = [...flows(report)]
        .filter(
          ([flow, state]) =>
            before.get(flow) !== state && !['succeeded', 'promoted', 'clean'].includes(state),
        )
        .map(([flow, state]) => `${flow}: ${state}`);
      const refused = unique(report.authorizationFailures.map((f) => `${f.action} (${f.code})`));
      const broken = unique(report.violations.map((v) => v.invariant));
      const fails = exitCodeFor(report) !== 0 || refused.length > 0;
      let effect: string;
      if (fails) {
        effect = [
          changed.length ? changed.join(', ') : 'every flow ends as before',
          refused.length ? `refused ${refused.join(', ')}` : '',
          broken.length ? `breaks ${broken.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ');
      } else if (outside) {
        effect = `nothing simulated; needed: ${outside}`;
      } else {
        effect = 'NOTHING CHANGES: not needed';
        unneeded.push(`${a.source} (${what})`);
      }
      rows.push(`| ${what} | ${effect} |`);
    }
    const table = [
      '| identity | role | scope | without it (scenarios/least-privilege.yaml) |',
      '|---|---|---|---|',
      ...rows,
    ].join('\n');
    process.stderr.write(`\n${table}\n`);
    mkdirSync(resolve(ROOT, 'test-results'), { recursive: true });
    writeFileSync(resolve(ROOT, 'test-results', 'roles-matrix.md'), `${table}\n`);
    expect(unneeded, 'assignments no flow needs: remove them from the Bicep').toEqual([]);

    const readme = readFileSync(resolve(ROOT, 'infra', 'README.md'), 'utf8');
    const kept = /<!-- roles-matrix:begin -->\n([\s\S]*?)\n<!-- roles-matrix:end -->/.exec(readme)?.[1];
    expect(
      kept,
      'infra/README.md keeps this table between <!-- roles-matrix:begin --> and <!-- roles-matrix:end --> (fresh copy: test-results/roles-matrix.md)',
    ).toBe(table);
  }, 1_800_000);
});
