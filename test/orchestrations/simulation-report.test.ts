/**
 * What the simulation report says (issue 17, "honest outcomes"): every runner and agent the fake
 * cloud deleted is counted under why kiln deleted it, each rollout says what kind it was, the text
 * timeline does not repeat itself, the settings a run used are listed, and a late Event Grid event
 * for an older version is received and skipped. Whole simulations, the app as registered.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeCloud } from '../../src/local/fake-cloud/index.js';
import {
  builtInDemoScenario,
  loadScenarioFile,
  parseScenario,
} from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { SETTINGS } from '../../src/config/settings.js';
import { renderText, type SimulationReport } from '../../src/local/simulate/report.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';

const SCENARIOS = resolve(process.cwd(), 'scenarios');
const scenarioFile = (name: string) => loadScenarioFile(resolve(SCENARIOS, name));
const text = (report: SimulationReport, scenario: Scenario) =>
  renderText(report, { start: scenario.start, until: scenario.until });

/**
 * Runs a scenario, counting the registrations the fake GitHub and Azure DevOps delete as they handle
 * each DELETE: the world's own tally, whatever the report says.
 */
async function simulateCounting(
  scenario: Scenario,
): Promise<{ result: SimulationResult; deleted: { runners: number; agents: number } }> {
  const deleted = { runners: 0, agents: 0 };
  const result = await runSimulation(scenario, {
    onStart: (cloud: FakeCloud) => {
      const { world } = cloud;
      const deleteRunner = world.deleteRunner.bind(world);
      world.deleteRunner = (id) => {
        const outcome = deleteRunner(id);
        if (outcome === 'deleted') deleted.runners++;
        return outcome;
      };
      const deleteAgent = world.deleteAgent.bind(world);
      world.deleteAgent = (id) => {
        const outcome = deleteAgent(id);
        if (outcome === 'deleted') deleted.agents++;
        return outcome;
      };
    },
  });
  return { result, deleted };
}

describe('registrations removed: the parts add up to what the fake cloud deleted', () => {
  it.each([
    // Ghosts of both fleets at the first cleanup, and runners drained by the monthly rebuild's rollouts.
    ['busy-and-ghosts.yaml', { ghosts: 12, agentGhosts: 2, whileDraining: 7 }],
    // Instances someone upgraded outside kiln leave offline runners the broker replaces.
    ['adversarial/late-event-stale-list.yaml', { replacedByBroker: 3, whileDraining: 3 }],
    // One-job Azure DevOps machines lose their offline agent before their reimage.
    ['recycle.yaml', { recycled: 2 }],
  ])(
    '%s',
    async (file, expected) => {
      const scenario = scenarioFile(file);
      const { result, deleted } = await simulateCounting(scenario);
      const { report } = result;
      const { githubRunners: runners, adoAgents: agents } = report.registrationsRemoved;

      expect(runners.ghosts + runners.offline + runners.whileDraining + runners.replacedByBroker).toBe(
        runners.total,
      );
      expect(agents.ghosts + agents.offline + agents.recycled).toBe(agents.total);
      expect(runners.total).toBe(deleted.runners);
      expect(agents.total).toBe(deleted.agents);
      expect({
        ghosts: runners.ghosts,
        agentGhosts: agents.ghosts,
        whileDraining: runners.whileDraining,
        replacedByBroker: runners.replacedByBroker,
        recycled: agents.recycled,
      }).toMatchObject(expected);
      expect(text(report, scenario)).toMatch(
        new RegExp(
          `total {19}${runners.total} GitHub runners?, ${agents.total} Azure DevOps agents? +\\(every deletion the fake cloud counted\\)`,
        ),
      );
    },
    180_000,
  );

  it('an offline registration past the grace period counts as offline, not as a ghost', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'offline-runner',
        until: '2026-12-01T04:00:00Z',
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
        },
        scaleSets: [{ name: 'vmss-gh', image: 'linux', capacity: 2 }],
      }),
      'inline',
    );
    const { report } = await runSimulation(scenario, {
      timers: ['cleanupTimer'],
      // The VM of instance 1 went quiet: its runner is offline while the instance exists.
      onStart: (cloud) => {
        const [, quiet] = [...cloud.world.scaleSets.get('vmss-gh')!.instances.values()];
        cloud.world.findRunnerByName(quiet!.computerName)!.status = 'offline';
      },
    });
    expect(report.deleted.githubRunners).toHaveLength(1);
    expect(report.registrationsRemoved.githubRunners).toMatchObject({ offline: 1, ghosts: 0, total: 1 });
  }, 120_000);

  it('says so when the fake cloud deleted more than kiln accounts for', async () => {
    const scenario = parseScenario(
      JSON.stringify({ name: 'nothing', timers: false, until: '2026-12-01T03:00:00Z' }),
      'inline',
    );
    const { report } = await runSimulation(scenario);
    const unaccounted = {
      ...report,
      deleted: { ...report.deleted, githubRunners: ['vmss-gh-linux-000000'] },
    };
    expect(text(unaccounted, scenario)).toMatch(
      /total +0 GitHub runners, 0 Azure DevOps agents +\(NOT ACCOUNTED FOR: GitHub runners: kiln's runs count 0, the fake cloud deleted 1\)/,
    );
  }, 60_000);
});

describe('each rollout says what it was', () => {
  let monthly: SimulationReport;
  beforeAll(async () => {
    monthly = (await runSimulation(scenarioFile('busy-and-ghosts.yaml'))).report;
  }, 180_000);

  it("a rebuild's canary and promotion rollouts", () => {
    const kinds = monthly.rollouts.map((r) => `${r.kind} ${r.definition} ${r.version} (${r.source})`);
    expect(kinds.sort()).toEqual([
      'canary linux-agent 2026.12.1 (rebuild)',
      'canary windows-agent 2026.12.1 (rebuild)',
      'promotion linux-agent 2026.12.1 (rebuild)',
    ]);
    const lines = text(monthly, scenarioFile('busy-and-ghosts.yaml')).split('\n');
    expect(lines).toContain('  promotion  linux-agent 2026.12.1: succeeded');
    expect(lines).toContain('  canary     windows-agent 2026.12.1: succeeded');
  });

  it("an operator's HTTP rollout", async () => {
    const scenario = { ...scenarioFile('busy-and-ghosts.yaml'), until: '2026-12-01T04:00:00Z' };
    const { report } = await runSimulation(scenario, { triggers: ['http-rollout'], timers: false });
    expect(report.rollouts.map((r) => [r.kind, r.source])).toEqual([
      ['http', 'http'],
      ['http', 'http'],
    ]);
  }, 120_000);

  it("a rebuild putting its canary back: restore, beside the canary's own rollout", async () => {
    const { report } = await runSimulation(scenarioFile('found/restore-reports-what-it-left.yaml'));
    expect(report.rollouts.map((r) => `${r.kind} ${r.version}`)).toEqual(
      expect.arrayContaining(['canary 2026.12.1', 'restore 2026.8.1']),
    );
  }, 180_000);
});

describe('the text timeline', () => {
  it("collapses a dry run's identical cleanup lines into one line with their count", async () => {
    const scenario = builtInDemoScenario();
    const { report } = await runSimulation(scenario, { dryRun: true });
    // The longest stretch of identical consecutive events, counted from the report's own events.
    let longest = { index: 0, count: 0 };
    for (let i = 0, run = 0; i < report.events.length; i++) {
      const same =
        i > 0 &&
        report.events[i]!.flow === report.events[i - 1]!.flow &&
        report.events[i]!.message === report.events[i - 1]!.message;
      run = same ? run + 1 : 1;
      if (run > longest.count) longest = { index: i - run + 1, count: run };
    }
    expect(longest.count).toBeGreaterThan(10);
    const first = report.events[longest.index]!;
    const last = report.events[longest.index + longest.count - 1]!;
    const time = (iso: string) => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');

    const timeline = text(report, scenario)
      .split('\n\n')
      .find((s) => s.startsWith('Timeline'))!
      .split('\n');
    expect(timeline).toContain(
      `  ${time(first.at)}  cleanup  ${first.message}  ×${longest.count} (until ${time(last.at)})`,
    );
    // No two lines in a row say the same thing (their times aside).
    const said = timeline.slice(1).map((line) => line.slice('  2026-12-01 03:00Z  '.length));
    for (let i = 1; i < said.length; i++) expect(said[i]).not.toBe(said[i - 1]);
    expect(timeline.length - 1).toBeLessThan(report.events.length);
  }, 120_000);
});

describe('settings of a simulation', () => {
  it("come from the scenario over the environment, and the report lists those that differ from kiln's defaults, masked", async () => {
    // Only these two from the environment (the test setup puts the environment back afterwards).
    for (const name of Object.keys(SETTINGS)) delete process.env[name];
    process.env.PRUNE_KEEP = '2';
    process.env.IMAGE_EOL_DAYS = '90';
    const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const scenario = parseScenario(
      [
        'name: settings',
        'timers: false',
        'until: 2026-12-01T03:00:00Z',
        'settings:',
        '  PRUNE_KEEP: 5',
        '  OFFLINE_GRACE_MINUTES: 45',
        '  BOOT_DEADLINE_MINUTES: 20', // kiln's default: not listed
        `  TAG_ORG: ${token}`, // looks like a credential: masked
      ].join('\n'),
      'settings.yaml',
    );
    const { report, cloud } = await runSimulation(scenario);
    expect(report.settings).toEqual([
      { name: 'CLIENT_RETRY_BASE_MS', value: '0', from: 'simulator' },
      { name: 'GITHUB_WRITE_INTERVAL_MS', value: '0', from: 'simulator' },
      { name: 'OFFLINE_GRACE_MINUTES', value: '45', from: 'scenario' },
      { name: 'TAG_ORG', value: `***(${token.length} chars)`, from: 'scenario' },
      { name: 'PRUNE_KEEP', value: '5', from: 'scenario' },
      { name: 'IMAGE_EOL_DAYS', value: '90', from: 'environment' },
    ]);
    // The app ran with the scenario's value: S3 is judged against the PRUNE_KEEP kiln used.
    expect(cloud.world.pruneKeep).toBe(5);
    expect(JSON.stringify(report)).not.toContain(token);
    const lines = text(report, scenario).split('\n');
    expect(lines).toContain(`  ${'PRUNE_KEEP'.padEnd(24)} = 5  (scenario)`);
    expect(lines).toContain(`  ${'IMAGE_EOL_DAYS'.padEnd(24)} = 90  (environment)`);
    expect(lines.join('\n')).not.toContain(token);
  }, 60_000);
});

describe('scenarios/eventgrid.yaml: a late Event Grid event for an older version', () => {
  it('is received after the fleet moved and skipped as older: nothing moves back, every invariant holds', async () => {
    const scenario = scenarioFile('eventgrid.yaml');
    expect(scenario.eventgrid).toMatchObject({ lateOlderEvent: { version: '2026.10.1', afterMinutes: 240 } });
    const { report, cloud } = await runSimulation(scenario);

    const delivered = report.events.find((e) =>
      e.message.startsWith('delivered ResourceWriteSuccess for linux 2026.10.1'),
    );
    const newerDone = report.events.find((e) =>
      e.message.startsWith('eventgrid linux-agent 2026.12.5: succeeded'),
    );
    expect(delivered?.message).toMatch(/\(late, for a version older than 2026\.12\.5\)/);
    expect(Date.parse(delivered!.at)).toBeGreaterThan(Date.parse(newerDone!.at));
    expect(report.rollouts).toEqual([
      {
        definition: 'linux-agent',
        version: '2026.12.5',
        source: 'eventgrid',
        kind: 'eventgrid',
        state: 'succeeded',
      },
      {
        definition: 'linux-agent',
        version: '2026.10.1',
        source: 'eventgrid',
        kind: 'eventgrid',
        state: 'skipped',
        reason: 'it already runs the newer version 2026.12.5 (vmss-gh-linux-weu, vmss-gh-linux-neu)',
      },
    ]);
    // Nothing went back to 2026.10.1 after the late event: models and instances stay on 2026.12.5.
    for (const name of ['vmss-gh-linux-weu', 'vmss-gh-linux-neu']) {
      expect(cloud.scaleSetVersion(name)).toBe('2026.12.5');
      const set = cloud.world.findScaleSet(name)!;
      expect([...set.instances.values()].map((i) => i.imageId.split('/').at(-1))).toEqual([
        '2026.12.5',
        '2026.12.5',
        '2026.12.5',
      ]);
    }
    expect(report.events.filter((e) => e.flow === 'arm' && e.at >= delivered!.at)).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.outcome).toBe('succeeded');
  }, 120_000);
});
