/**
 * `kiln simulate`: parse arguments, load the scenario, run it, print the report. With
 * `--report json` standard output holds only the JSON report; progress and logs go to standard error.
 */
import type { TriggerName } from '../local/scenario/types.js';
import { exitCodeFor, renderText } from '../local/simulate/report.js';
import { SimulationError, runSimulation } from '../local/simulate/run-simulation.js';
import { RolesSourceError, type RolesOption } from '../local/fake-cloud/role-source.js';
import { runTrustingFakeCa } from './trust.js';
import { parseCommandArguments } from './arguments.js';
import { scenarioArgument } from './scenario-cloud.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';

const HELP = `kiln simulate — run kiln's real orchestrations against the embedded fake cloud

Usage:
  kiln simulate [--scenario FILE] [--trigger NAME[,NAME…]] [--report text|json] [--roles FILE|all]
                [--dry-run] [--verbose]

Options:
  --scenario FILE   Scenario file, JSON or YAML (format: docs/scenarios.md).
                    Without it, a built-in demo scenario runs.
  --trigger NAMES   Entry points fired once at the start, replacing the scenario's "trigger" list.
                    cleanup (POST /api/cleanups), http-rebuild (POST /api/rebuilds),
                    http-rollout (POST /api/rollouts), eventgrid (a version written
                    outside kiln, delivered eventgrid.duplicates times, out of order).
  --report FORMAT   text (default): a readable timeline and summary. json: the report only, on stdout.
  --timers on|off   Whether the app's timers (monthly rebuild, cleanup, runner-release watch) fire
                    on the virtual clock. Default: the scenario's "timers", or off when --trigger
                    names the entry points to run.
  --roles FILE|all  Role assignments the fake cloud enforces: those of a compiled ARM template
                    (bicep build output). Default: kiln's own (infra/generated/main.json, what
                    npm run build:infra compiles from infra/main.bicep). all: every identity may
                    do everything (for experiments).
  --dry-run         Every flow plans and reports, nothing changes (same as "dryRun: true").
  --verbose         Also print the app's own log lines (to stderr).

Examples:
  kiln simulate
  kiln simulate --scenario scenarios/busy-and-ghosts.yaml --trigger cleanup --report json
  kiln simulate --scenario scenarios/monthly-small.yaml
  kiln simulate --scenario my-fleet.yaml --dry-run
  kiln simulate --scenario scenarios/monthly-small.yaml --roles my-infra/main.json

${exitCodesHelp('simulate')}`;

const TRIGGERS: TriggerName[] = ['http-rebuild', 'http-rollout', 'eventgrid', 'cleanup'];

export async function simulateCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArguments(
    'simulate',
    argv,
    {
      scenario: { type: 'string' },
      trigger: { type: 'string' },
      report: { type: 'string', default: 'text' },
      'dry-run': { type: 'boolean' },
      timers: { type: 'string' },
      roles: { type: 'string' },
      verbose: { type: 'boolean' },
    },
    HELP,
  );
  if (parsed.exit !== undefined) return parsed.exit;
  const { values } = parsed;
  if (values.timers !== undefined && values.timers !== 'on' && values.timers !== 'off') {
    process.stderr.write(`kiln simulate: --timers must be "on" or "off", not "${values.timers}"\n`);
    return EXIT.usage;
  }
  if (values.report !== 'text' && values.report !== 'json') {
    process.stderr.write(`kiln simulate: --report must be "text" or "json", not "${values.report}"\n`);
    return EXIT.usage;
  }
  let roles: RolesOption = 'project';
  if (values.roles !== undefined) {
    if (values.roles === '') {
      process.stderr.write('kiln simulate: --roles takes a compiled ARM template file or "all"\n');
      return EXIT.usage;
    }
    roles = values.roles === 'all' ? 'all' : { templateFile: values.roles };
  }
  let triggers: TriggerName[] | undefined;
  if (values.trigger !== undefined) {
    const names = values.trigger
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const unknown = names.filter((t) => !TRIGGERS.includes(t as TriggerName));
    if (names.length === 0 || unknown.length > 0) {
      process.stderr.write(
        `kiln simulate: --trigger takes a comma-separated list of ${TRIGGERS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}\n`,
      );
      return EXIT.usage;
    }
    triggers = names as TriggerName[];
  }

  const loaded = scenarioArgument('simulate', values.scenario);
  if (loaded.exit !== undefined) return loaded.exit;
  const { scenario } = loaded;

  // The fake cloud serves HTTPS with its own CA; Node trusts extra CAs only from start-up.
  const respawned = runTrustingFakeCa();
  if (respawned) return respawned;

  const log = (line: string) => {
    if (values.verbose || !line.startsWith('  [')) process.stderr.write(`${line}\n`);
  };
  try {
    const { report } = await runSimulation(scenario, {
      triggers,
      // Naming the entry points on the command line runs just those, unless the timers are asked for.
      timers: values.timers !== undefined ? values.timers === 'on' : triggers ? false : undefined,
      dryRun: values['dry-run'] ? true : undefined,
      roles,
      log,
    });
    process.stdout.write(
      values.report === 'json'
        ? `${JSON.stringify(report, null, 2)}\n`
        : renderText(report, {
            start: scenario.start,
            until: scenario.until,
            latency: scenario.latency,
            autoscaled: scenario.scaleSets.filter((s) => s.autoscale).map((s) => s.name),
          }),
    );
    return exitCodeFor(report);
  } catch (error) {
    if (error instanceof SimulationError || error instanceof RolesSourceError) {
      process.stderr.write(`kiln simulate: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
