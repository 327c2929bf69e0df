// The alert rules and their action group (infra/modules/alerts.bicep), from the template evaluated
// with real parameter sets: the five rules on the app's Application Insights, receivers exactly as
// the parameters say, and queries that name only metrics and attributes kiln emits (read from the
// app's own catalogue, src/telemetry/instruments.ts, as the app loads it), so the two cannot drift.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { repoRoot, snapshot } from './lib/bicep.mjs';
import { resourcesOf } from './lib/arm.mjs';
import { scenarios } from './scenarios.mjs';

const RULES = {
  rollback: 'kiln.rollout.rollbacks',
  'rebuild-failed': 'kiln.rebuild.outcome',
  'scale-set-pending': 'kiln.fleet.instances',
  'ghosts-growing': 'kiln.ghosts.found',
  'runner-too-old': 'kiln.runner.days_left',
};

const notifying = () =>
  snapshot('alerts-notify', {
    template: 'infra/main.bicep',
    params: {
      environmentName: 'ops',
      location: 'westeurope',
      github: { scope: 'org', owner: 'acme' },
      alertEmails: ['oncall@example.com', 'platform@example.com'],
      alertWebhookUrl: 'https://hooks.example.com/kiln',
      busyWaitHours: 12,
    },
  });

/** What the app exports (src/telemetry/instruments.ts) and its rollouts' default busy wait, loaded through tsx. */
function appCatalogue(t) {
  const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
  if (!existsSync(path.join(repoRoot, 'src/telemetry/instruments.ts')) || !existsSync(tsx)) {
    t.skip("the app's metric catalogue is not in this checkout");
    return undefined;
  }
  const script = `import { METRICS } from './src/telemetry/instruments.ts';
    import { DEFAULT_ROLLOUT_OPTIONS } from './src/domain/rollout.ts';
    console.log(JSON.stringify({ metrics: Object.values(METRICS), busyWaitHours: DEFAULT_ROLLOUT_OPTIONS.busyWaitHours }));`;
  return JSON.parse(execFileSync(tsx, ['-e', script], { cwd: repoRoot, encoding: 'utf8' }));
}

const rulesOf = (snap) => resourcesOf(snap, 'Microsoft.Insights/scheduledQueryRules');
const queryOf = (rule) => rule.properties.criteria.allOf[0].query;

const snaps = {};
before(() => {
  snaps.defaults = scenarios.defaults();
  snaps.notify = notifying();
});

describe('alert rules', () => {
  it('are the five log alerts, on the Application Insights the app sends its metrics to', () => {
    for (const [name, snap] of Object.entries(snaps)) {
      const rules = rulesOf(snap);
      const env = name === 'defaults' ? 'min-env' : 'ops';
      assert.deepEqual(
        rules.map((r) => r.name).sort(),
        Object.keys(RULES)
          .map((rule) => `alert-${env}-${rule}`)
          .sort(),
        name,
      );
      const [component] = resourcesOf(snap, 'Microsoft.Insights/components');
      for (const rule of rules) {
        assert.equal(rule.kind, 'LogAlert', rule.name);
        assert.deepEqual(rule.properties.scopes, [component.id], rule.name);
        assert.equal(rule.properties.enabled, true, rule.name);
        assert.ok(rule.properties.severity >= 0 && rule.properties.severity <= 4, rule.name);
        assert.match(rule.properties.description, /\S/, rule.name);
      }
    }
  });

  it('query only metrics and attributes kiln emits, each rule the metric it is about', (t) => {
    const catalogue = appCatalogue(t);
    if (!catalogue) return;
    const byName = new Map(catalogue.metrics.map((m) => [m.name, m]));
    for (const rule of rulesOf(snaps.notify)) {
      const query = queryOf(rule);
      const named = [...query.matchAll(/name == "([^"]+)"/g)].map((m) => m[1]);
      const kind = rule.name.replace(/^alert-ops-/, '');
      assert.deepEqual(named, [RULES[kind]], rule.name);
      const metric = byName.get(named[0]);
      assert.ok(metric, `${rule.name}: ${named[0]} is not a metric src/telemetry/instruments.ts lists`);
      for (const [, dimension] of query.matchAll(/customDimensions\.(\w+)/g))
        assert.ok(metric.attributes.includes(dimension), `${rule.name}: ${named[0]} has no attribute ${dimension}`);
    }
  });

  it('call a scale set pending after the busy wait the parameter gives, by default the rollouts\' own', (t) => {
    const catalogue = appCatalogue(t);
    if (!catalogue) return;
    const cases = [
      [snaps.defaults, catalogue.busyWaitHours],
      [snaps.notify, 12],
    ];
    for (const [snap, hours] of cases) {
      const rule = rulesOf(snap).find((r) => r.name.endsWith('-scale-set-pending'));
      assert.equal(rule.properties.windowSize, `PT${hours}H`);
      assert.match(queryOf(rule), new RegExp(`ago\\(${hours}h\\)`));
    }
  });
});

describe('action group', () => {
  it('has an email receiver per address and the webhook, and every rule notifies it', () => {
    const [group] = resourcesOf(snaps.notify, 'Microsoft.Insights/actionGroups');
    assert.equal(group.location, 'global');
    assert.deepEqual(
      group.properties.emailReceivers.map((r) => r.emailAddress),
      ['oncall@example.com', 'platform@example.com'],
    );
    // The webhook is a secure parameter: the snapshot keeps it as the expression that reads it.
    assert.match(JSON.stringify(group.properties.webhookReceivers), /parameters\('(alertWebhookUrl|webhookUrl)'\)/);
    for (const rule of rulesOf(snaps.notify)) assert.deepEqual(rule.properties.actions.actionGroups, [group.id]);
  });

  it('has no email receiver without addresses: only the webhook can make the group and have the rules notify it', () => {
    const groups = resourcesOf(snaps.defaults, 'Microsoft.Insights/actionGroups');
    for (const group of groups) assert.deepEqual(group.properties.emailReceivers, []);
    for (const rule of rulesOf(snaps.defaults)) {
      const groupsOfRule = rule.properties.actions.actionGroups;
      // Without addresses only the webhook (secure, so left as an expression) can make the group.
      assert.equal(typeof groupsOfRule, 'string', rule.name);
      assert.match(groupsOfRule, /^\[if\(or\(false\(\), not\(empty\(parameters\('webhookUrl'\)\)\)\)/, rule.name);
    }
  });
});
