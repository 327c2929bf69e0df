/**
 * `kiln plan`: what a rebuild, a rollout and a cleanup would do now, against the real Azure, GitHub
 * and Azure DevOps of the current credentials, or with `--scenario` against the embedded fake cloud
 * built from a scenario. Every flow runs as a dry run (DRY_RUN=true) in-process, through the app as
 * registered, and only reads. With `--json` standard output holds only the plan.
 */
import { scrub } from '../clients/client-error.js';
import { createCredential } from '../clients/credential.js';
import { loadSettings, SettingsError, type Settings } from '../config/load-settings.js';
import type { ImageKind } from '../domain/release.js';
import { resetRuntime } from '../functions/runtime.js';
import { makePlan, type Plan } from './plan-run.js';
import { applySettings, renderTable, settingsFromArguments } from './plan-settings.js';
import { parseCommandArguments } from './arguments.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';
import { startScenarioWorld } from './scenario-cloud.js';

const PLAN_HELP = `kiln plan — what a rebuild, a rollout and a cleanup would do now (reads only)

Usage:
  kiln plan [--settings FILE] [--scenario FILE] [--image linux|windows] [--version X.Y.Z] [--json]
            [--verbose] [--ca FILE]

Runs every flow as a dry run, in this process, against the real Azure, GitHub and Azure DevOps of
the current credentials (DefaultAzureCredential: az login, environment, or a managed identity), or
with --scenario against the embedded fake cloud. Nothing is changed: only reads are sent (plus the
token requests authentication needs).

Options:
  --settings FILE   App settings: a JSON object of settings, or a local.settings.json ("Values").
                    Without it, settings come from the environment; the file's values win.
  --scenario FILE   Plan against the embedded fake cloud built from this scenario file (format:
                    docs/scenarios.md), as it is at the scenario's start: try kiln without Azure.
                    The fake cloud's endpoints, identities and names win over other settings.
  --image KIND      Plan only this image (linux or windows). Default: both.
  --version X.Y.Z   The version to plan a rollout of (needs --image). Default: each image's newest
                    promoted version (in latest, not kiln's work in progress).
  --json            Print the plan as JSON on stdout (for scripts).
  --verbose         Also print the app's log lines (to stderr).
  --ca FILE         Also trust this PEM CA (GitHub Enterprise Server or a proxy with a private CA);
                    the command re-runs itself once with NODE_EXTRA_CA_CERTS naming a bundle.
  -h, --help        This help.

Prints three tables: per image the next version a rebuild would publish, its canary, the scale sets
it would roll and the versions it would prune; per scale set what a rollout would do (waves, busy
instances now, or why it would refuse); and the runners, agents and instances a cleanup would remove
or reimage. A rollout that would first wait for replication is shown as waiting: the plan does not wait.

Examples:
  kiln plan
  kiln plan --settings local.settings.json
  kiln plan --scenario scenarios/monthly-small.yaml
  kiln plan --image linux --version 2026.11.1
  kiln plan --json | jq '.cleanup.remove'

${exitCodesHelp('plan')}`;

const VERSION = /^\d+\.\d+\.\d+$/;

export async function planCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArguments(
    'plan',
    argv,
    {
      settings: { type: 'string' },
      image: { type: 'string' },
      version: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      ca: { type: 'string' },
      scenario: { type: 'string' },
    },
    PLAN_HELP,
  );
  if (parsed.exit !== undefined) return parsed.exit;
  const { values } = parsed;
  const bad = (message: string) => {
    process.stderr.write(`kiln plan: ${message}\n`);
    return EXIT.usage;
  };
  if (values.image !== undefined && values.image !== 'linux' && values.image !== 'windows')
    return bad(`--image must be "linux" or "windows", not "${values.image}"`);
  if (values.version !== undefined && !VERSION.test(values.version))
    return bad(`--version must be a gallery version X.Y.Z (e.g. 2026.11.1), not "${values.version}"`);
  if (values.version !== undefined && values.image === undefined)
    return bad('--version needs --image (a version belongs to one image definition)');

  const fromFile = await settingsFromArguments('plan', values);
  if (fromFile.exit !== undefined) return fromFile.exit;
  const { fileValues } = fromFile;
  const fake = values.scenario !== undefined ? await startScenarioWorld('plan', values.scenario) : undefined;
  if (fake?.exit !== undefined) return fake.exit;

  // Every flow the app starts is a dry run, whatever the settings say (the shadow-mode switch). A
  // plan is no run of the deployment's and writes nothing: not in its run history (so no table
  // endpoint), and it serves no registrations (so no broker, which would need one).
  const restore = applySettings({
    ...fileValues,
    ...fake?.world.settings,
    DRY_RUN: 'true',
    KILN_TABLE_ENDPOINT: '',
    KILN_REGISTRATION_AUDIENCE: '',
  });
  resetRuntime();
  try {
    let settings: Settings;
    try {
      settings = loadSettings(process.env);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      process.stderr.write(
        `kiln plan: ${error.message}\nRun "kiln doctor" for a full check of the deployment.\n`,
      );
      return EXIT.usage;
    }
    // Without a credential every read would fail the same way: say so once, before planning.
    try {
      const token = await createCredential(settings).getToken(settings.arm.audience);
      if (!token) throw new Error('no token was issued');
    } catch (error) {
      process.stderr.write(
        `kiln plan: no Azure credential: ${scrub((error as Error).message)}\nSign in (az login) or set AZURE_CLIENT_ID to kiln's identity; "kiln doctor" checks the rest.\n`,
      );
      return EXIT.failed;
    }
    const plan = await makePlan({
      settings,
      images: values.image ? [values.image as ImageKind] : ['linux', 'windows'],
      version: values.version,
      // In a scenario's world, the plan is made at the world's time.
      clock: fake?.world.clock,
      log: values.verbose
        ? (level, source, message) => process.stderr.write(`  [${level}] ${source}: ${message}\n`)
        : undefined,
    });
    process.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan));
    return plan.errors.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    restore();
    resetRuntime();
    await fake?.world.close();
  }
}

const dash = (value: string | number | undefined) =>
  value === undefined || value === '' ? '–' : String(value);
const list = (items: string[]) => (items.length > 0 ? items.join(', ') : '–');

function renderPlan(plan: Plan): string {
  const out: string[] = [`kiln plan — ${plan.at} (dry run: nothing was changed)`, ''];

  out.push('Rebuild (per image)');
  out.push(
    renderTable(
      ['Image', 'Next version', 'Canary', 'Then roll', 'Prune', 'State'],
      plan.rebuild.map((r) => [
        r.image,
        dash(r.nextVersion),
        dash(r.canary),
        list(r.rollOut),
        list(r.prune),
        r.reason ? `${r.state}: ${r.reason}` : r.state,
      ]),
    ),
    '',
  );

  out.push('Rollout (per scale set)');
  const rows: string[][] = [];
  for (const r of plan.rollout) {
    const version = r.version
      ? `${r.version}${r.versionFrom === 'newest promoted' ? ' (newest promoted)' : ''}`
      : '–';
    if (r.scaleSets.length === 0) {
      rows.push([r.image, version, '–', '–', r.state, '–', '–', dash(r.reason)]);
      continue;
    }
    for (const s of r.scaleSets)
      rows.push([
        r.image,
        version,
        s.scaleSet,
        dash(s.region),
        s.state,
        dash(s.plannedWaves),
        dash(s.busyNow),
        dash(s.reason),
      ]);
  }
  out.push(
    renderTable(['Image', 'Version', 'Scale set', 'Region', 'State', 'Waves', 'Busy now', 'Why'], rows),
    '',
  );

  const c = plan.cleanup;
  out.push(`Cleanup (${c.state})`);
  const actions: string[][] = [
    ...c.remove.map((r) => [
      `remove ${r.fleet === 'github' ? 'runner' : 'agent'}`,
      r.name,
      r.scaleSet,
      r.reason,
    ]),
    ...c.reimage.map((r) => [
      'reimage instance',
      `${r.computerName} (#${r.instanceId})`,
      r.scaleSet,
      'never registered',
    ]),
    ...c.recycle.map((r) => [
      'recycle instance',
      `${r.computerName} (#${r.instanceId})`,
      r.scaleSet,
      r.fleet === 'ado'
        ? 'its one job is done (agent offline): remove the agent, reimage'
        : 'its one job is done',
    ]),
  ];
  out.push(
    actions.length > 0
      ? renderTable(['Action', 'Name', 'Scale set', 'Why'], actions)
      : 'nothing to remove, reimage or recycle',
  );
  out.push(
    `kept: ${c.kept} (busy now: ${list(c.keptBusy)}) · left alone, not kiln's: ${list(c.foreign.map((f) => f.name))}`,
    '',
  );

  if (plan.errors.length > 0) {
    out.push('Could not plan:');
    for (const e of plan.errors) out.push(`  ✗ ${e}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
