/**
 * `kiln doctor`: checks a deployment before it is trusted — one line per check, ✓ or ✗, and for
 * every ✗ the fix; with `--scenario`, the embedded fake cloud built from a scenario. Reads only;
 * secret values are never printed. With `--json` standard output holds only the results.
 */
import { runChecks, type CheckResult } from './doctor-checks.js';
import { applySettings, settingsFromArguments } from './plan-settings.js';
import { parseCommandArguments } from './arguments.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';
import { startScenarioWorld } from './scenario-cloud.js';

const DOCTOR_HELP = `kiln doctor — check a kiln deployment, one line per check, with the fix for each ✗

Usage:
  kiln doctor [--settings FILE] [--scenario FILE] [--json] [--ca FILE]

Checks, in order (each only reads):
  settings                  every app setting present and valid (each problem on its own line)
  image pipeline settings   GALLERY_*, TARGET_REGIONS, PACKER_JOB_ID, PACKER_IMAGE_RG, PACKER_TEMP_RG
  azure credential          DefaultAzureCredential issues a token for ARM
  key vault secret NAME     the GitHub App key (or PAT) and the Azure DevOps PAT are readable
  github                    listing the self-hosted runners works (credential valid, scope enough)
  azure devops              the agent pool lookup works (PAT valid, pool exists)
  gallery definition NAME   the Linux and Windows image definitions exist with the right OS type
  scale set NAME            each managed scale set is in scope, Uniform, upgrade policy Manual
  packer job                the Container Apps job in PACKER_JOB_ID exists
  azure identity            the object id (oid) doctor's ARM token names: whose roles are checked
  roles                     its role assignments grant every action kiln's flows need, on each scale
                            set, subnet, scale set identity, image definition, PACKER_IMAGE_RG, the
                            Packer job, the subscription and each Key Vault secret kiln reads; each
                            ✗ names the role, the identity and the scope, with the az command
  registration secret NAME  as the scale set's kiln-registration tag says its VMs register:
                            pat (or no tag): its identity may read its PAT (Key Vault Secrets User);
                            jit or broker (kiln's registration broker): its identities may read none
                            of the GitHub PAT, GitHub App key or Azure DevOps PAT secrets, since a
                            job could too; a ✗ names the role assignment to remove
  runners|agents online     every running instance of each scale set has an online runner/agent;
                            the hint follows the registration mode (broker: its settings, the
                            app's "registration of … refused" log lines)
A ✗ whose cause is a row of the image README's troubleshooting table names that row.

Options:
  --settings FILE   App settings: a JSON object of settings, or a local.settings.json ("Values").
                    Without it, settings come from the environment; the file's values win.
  --scenario FILE   Check the embedded fake cloud built from this scenario file (format:
                    docs/scenarios.md), as it is at the scenario's start: try kiln without Azure.
                    The fake cloud's endpoints, identities and names win over other settings.
  --json            Print the results as JSON on stdout (for scripts).
  --ca FILE         Also trust this PEM CA (GitHub Enterprise Server or a proxy with a private CA);
                    the command re-runs itself once with NODE_EXTRA_CA_CERTS naming a bundle.
  -h, --help        This help.

Examples:
  kiln doctor
  kiln doctor --settings local.settings.json
  kiln doctor --scenario scenarios/monthly-small.yaml
  kiln doctor --json | jq '.checks[] | select(.status == "fail")'

${exitCodesHelp('doctor')}`;

const MARK = { pass: '✓', fail: '✗', skip: '–' } as const;

export async function doctorCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArguments(
    'doctor',
    argv,
    {
      settings: { type: 'string' },
      json: { type: 'boolean' },
      ca: { type: 'string' },
      scenario: { type: 'string' },
    },
    DOCTOR_HELP,
  );
  if (parsed.exit !== undefined) return parsed.exit;
  const { values } = parsed;
  const fromFile = await settingsFromArguments('doctor', values);
  if (fromFile.exit !== undefined) return fromFile.exit;
  const { fileValues } = fromFile;
  const fake =
    values.scenario !== undefined ? await startScenarioWorld('doctor', values.scenario) : undefined;
  if (fake?.exit !== undefined) return fake.exit;

  // The credential reads AZURE_* from process.env, so the file's settings go there for the run.
  const restore = applySettings({ ...fileValues, ...fake?.world.settings });
  let checks: CheckResult[];
  // In a scenario's world, the checks are made at the world's time (boot deadlines).
  const at = fake?.world.clock.now() ?? new Date();
  try {
    checks = await runChecks({ ...process.env }, at);
  } finally {
    restore();
    await fake?.world.close();
  }
  const ok = checks.every((c) => c.status !== 'fail');
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, at: at.toISOString(), checks }, null, 2)}\n`);
  else process.stdout.write(renderChecks(checks, ok));
  return ok ? EXIT.ok : EXIT.failed;
}

function renderChecks(checks: CheckResult[], ok: boolean): string {
  const lines = checks.map(
    (c) => `${MARK[c.status]} ${c.check}: ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ''}`,
  );
  const failed = checks.filter((c) => c.status === 'fail').length;
  lines.push(
    '',
    ok
      ? `all ${checks.filter((c) => c.status === 'pass').length} checks passed`
      : `${failed} check(s) failed`,
  );
  return `${lines.join('\n')}\n`;
}
