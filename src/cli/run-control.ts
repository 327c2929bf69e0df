/**
 * `kiln status` and `kiln rebuild|rollout|cleanup`: start and watch runs of a deployed kiln (or of
 * `kiln serve`) through its HTTP API with the function key. Starting follows the run with a live
 * progress line until it ends, unless --no-wait.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { RunDetail, RunSummary } from '../functions/runs-view.js';
import { CommandError, createAppClient, errorText, type AppClient } from './app-client.js';
import { EXIT, exitCodesHelp, exitForRuns } from './exit-codes.js';
import { follow, getRun, heldLine, isActive, obj, softwareLines, summarise } from './progress.js';

const CONNECTION = `  --app URL         The function app, e.g. https://func-kiln.azurewebsites.net (or KILN_APP_URL).
  --key KEY         Function key (or KILN_FUNCTION_KEY, which keeps it out of the shell history).
  --json            Print JSON for scripts on stdout (the run's final status; with --no-wait the ids).`;

const FOLLOW = `  --no-wait         Start and return; follow later with kiln status ID --follow.
  --interval SEC    Seconds between progress polls (default 2).`;

const STATUS_HELP = `kiln status — runs of a kiln deployment: its run history, or one run in detail

Usage:
  kiln status [--days N] [--top N] [--next TOKEN | --all] --app URL [--key KEY] [--json]
  kiln status RUN --app URL [--key KEY] [--follow] [--json]

Options:
${CONNECTION}
  --days N          Runs started in the last N days (default 7; at most RUN_HISTORY_DAYS).
  --top N           Runs per page, newest first (1-500, default 50).
  --next TOKEN      The page after the one that printed TOKEN.
  --all             Every page.
  --follow          With RUN: follow it with a live progress line until it ends.
  --interval SEC    Seconds between progress polls (default 2).

Examples:
  kiln status --app https://func-kiln.azurewebsites.net
  kiln status --app https://func-kiln.azurewebsites.net --days 90 --all --json | jq '.runs[] | select(.status == "Failed")'
  kiln status rollout-linux-agent-2026.12.1 --app http://127.0.0.1:7071 --follow
  KILN_FUNCTION_KEY=… kiln status --app https://func-kiln.azurewebsites.net --json | jq '.runs[0]'

${exitCodesHelp('status')}`;

const START_HELP = {
  rebuild: `kiln rebuild — start the image rebuild (POST /api/rebuilds) and follow it

Usage:
  kiln rebuild --app URL [--key KEY] [--image linux|windows[,…]] [--runner-version V] [--runner-sha256 HEX]
               [--agent-version V] [--dry-run] [--no-wait] [--json]
  kiln rebuild approve|reject ID --app URL [--key KEY] [--reason TEXT] [--by NAME] [--follow] [--json]

Options:
${CONNECTION}
  --image NAMES     Images to rebuild, comma-separated (default: linux and windows).
  --runner-version V, --runner-sha256 HEX, --agent-version V
                    Pin the GitHub runner (with its SHA-256) or Azure DevOps agent to bake.
  --dry-run         Plan only: report what the rebuild would do, change nothing.
${FOLLOW}

Approving: a rebuild whose new version changes software as PROMOTION_GATE lists (by default a tool
removed or a major version change) waits after its canary in state awaitingApproval;
kiln status ID shows the changes.
  approve ID        Promote it: replicate, promote and roll out as usual.
  reject ID         Reject it for good: nothing is promoted, the canary goes back.
  --reason TEXT     Why (kept in the run record; up to 500 characters).
  --by NAME         Who answers (default: your user name).
  --follow          Follow the rebuild to its end after answering.

Examples:
  kiln rebuild --app https://func-kiln.azurewebsites.net --image linux
  kiln rebuild --app http://127.0.0.1:7071 --key KEY --dry-run --json
  kiln rebuild approve rebuild-windows-2026-12 --app https://func-kiln.azurewebsites.net --reason "git 3 checked"

${exitCodesHelp('rebuild')}`,
  rollout: `kiln rollout — roll an image version onto the scale sets (POST /api/rollouts) and follow it

Usage:
  kiln rollout --app URL [--key KEY] --image IMAGE --version X.Y.Z [--scale-sets A,B] [--batch-percent N]
               [--max-unhealthy-percent N] [--health-deadline-minutes N] [--busy-wait-hours N]
               [--pause-minutes N] [--region-order R1,R2] [--dry-run] [--no-wait] [--json]

Options:
${CONNECTION}
  --image IMAGE     linux, windows or an image definition name.
  --version X.Y.Z   The gallery version (rolling back is a rollout to the previous version).
  --scale-sets A,B  Only these scale sets (names or ids); default every managed one of the image.
                    A name that is no managed scale set fails the run before anything moves.
  --batch-percent N, --max-unhealthy-percent N, --health-deadline-minutes N, --busy-wait-hours N,
  --pause-minutes N Wave size, health gate and waits (defaults 20, 20, 15, 6, 0).
  --region-order R1,R2  Regions in the order the lead scale set is chosen from.
  --dry-run         Plan only.
${FOLLOW}

Examples:
  kiln rollout --app https://func-kiln.azurewebsites.net --image linux --version 2026.12.1
  kiln rollout --app http://127.0.0.1:7071 --key KEY --image windows --version 2026.11.1 --batch-percent 50 --no-wait

${exitCodesHelp('rollout')}`,
  cleanup: `kiln cleanup — run fleet hygiene now (POST /api/cleanups) and follow it

Usage:
  kiln cleanup --app URL [--key KEY] [--dry-run] [--no-wait] [--json]

Options:
${CONNECTION}
  --dry-run         Plan only: report the ghosts and stale registrations it would remove.
${FOLLOW}

Examples:
  kiln cleanup --app https://func-kiln.azurewebsites.net --dry-run
  kiln cleanup --app http://127.0.0.1:7071 --key KEY --json

${exitCodesHelp('cleanup')}`,
};

export type StartKind = keyof typeof START_HELP;

const COMMON = {
  app: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  interval: { type: 'string', default: '2' },
  help: { type: 'boolean', short: 'h' },
} as const;

function intervalMs(value: string | undefined): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 600)
    throw new CommandError(
      `--interval must be a number of seconds from 0.1 to 600, not "${value}"`,
      EXIT.usage,
    );
  return seconds * 1000;
}

function client(values: { app?: string; key?: string }): AppClient {
  return createAppClient(values.app ?? process.env.KILN_APP_URL, values.key ?? process.env.KILN_FUNCTION_KEY);
}

function fail(command: string, error: unknown, help: string): number {
  if (error instanceof CommandError) {
    process.stderr.write(`kiln ${command}: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`kiln ${command}: ${error.message}\n\n${help}`);
    return EXIT.usage;
  }
  throw error;
}

export async function statusCommand(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...COMMON,
        follow: { type: 'boolean' },
        days: { type: 'string' },
        top: { type: 'string' },
        next: { type: 'string' },
        all: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      process.stdout.write(STATUS_HELP);
      return EXIT.ok;
    }
    if (positionals.length > 1)
      throw new CommandError(
        `takes at most one run id, got ${positionals.length}: ${positionals.join(' ')}`,
        EXIT.usage,
      );
    if (values.follow && positionals.length === 0)
      throw new CommandError('--follow needs a run id', EXIT.usage);
    const interval = intervalMs(values.interval);
    const app = client(values);
    const id = positionals[0];
    const listing = ['days', 'top', 'next', 'all'].filter(
      (o) => values[o as keyof typeof values] !== undefined,
    );
    if (id !== undefined && listing.length > 0)
      throw new CommandError(`--${listing[0]} lists the run history: it takes no run id`, EXIT.usage);
    if (values.next !== undefined && values.all)
      throw new CommandError('--next and --all exclude each other', EXIT.usage);
    if (id === undefined) {
      const page = await listRuns(app, {
        days: whole('days', values.days, 1, 3650),
        top: whole('top', values.top, 1, 500),
        next: values.next,
        all: values.all === true,
      });
      if (values.json) process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      else process.stdout.write(runTable(page.runs, page.days, page.next));
      return EXIT.ok;
    }
    const run = values.follow
      ? (await follow(app, [id], { intervalMs: interval, out: process.stderr }))[0]!
      : await getRun(app, id);
    if (values.json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    else process.stdout.write(isActive(run) ? detail(run) : `${detail(run)}${summarise([run])}`);
    return exitForRuns([run]);
  } catch (error) {
    return fail('status', error, STATUS_HELP);
  }
}

interface RunsPage {
  days: number;
  runs: RunSummary[];
  /** The next page's link (GET /api/runs), whose `next` parameter is the page's continuation. */
  next?: string;
}

/** whole numbers a flag takes, or undefined when it is not given (the app's default). */
function whole(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new CommandError(
      `--${name} must be a whole number from ${min} to ${max}, not "${value}"`,
      EXIT.usage,
    );
  return Number(value);
}

/** A page of the run history (GET /api/runs), or with `all` every page, one after another. */
async function listRuns(
  app: AppClient,
  options: { days?: number; top?: number; next?: string; all: boolean },
): Promise<RunsPage> {
  const query = new URLSearchParams();
  if (options.days !== undefined) query.set('days', String(options.days));
  if (options.top !== undefined) query.set('top', String(options.top));
  let next = options.next;
  const runs: RunSummary[] = [];
  for (;;) {
    if (next !== undefined) query.set('next', next);
    const response = await app.request('GET', `/runs${query.size ? `?${query}` : ''}`);
    if (response.status === 400)
      throw new CommandError(`the app rejected the request: ${errorText(response.body)}`, EXIT.usage);
    if (response.status !== 200)
      throw new CommandError(
        `GET /api/runs answered ${response.status}: ${errorText(response.body)}`,
        EXIT.unreachable,
      );
    const page = response.body as RunsPage;
    runs.push(...page.runs);
    next = page.next ? (new URL(page.next).searchParams.get('next') ?? undefined) : undefined;
    if (!options.all || next === undefined) return { ...page, runs };
  }
}

function runTable(runs: RunSummary[], days: number, next: string | undefined): string {
  if (runs.length === 0) return `No runs in the last ${days} days.\n`;
  const rows = [
    ['RUN', 'KIND', 'SUBJECT', 'STARTED BY', 'STATUS', 'PHASE / OUTCOME', 'STARTED'],
    ...runs.map((r) => [
      r.id,
      r.kind,
      `${r.subject}${r.dryRun ? ' (dry run)' : ''}`,
      r.startedBy,
      r.status,
      isActive(r) ? (r.phase ?? '') : [r.outcome, r.failureReason].filter(Boolean).join(': '),
      r.createdTime,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
  );
  const token = next && new URL(next).searchParams.get('next');
  return `${table.join('\n')}\n${token ? `Older runs: kiln status --next ${token} (or --all)\n` : ''}`;
}

function detail(run: RunDetail): string {
  const lines = [
    `${run.id}`,
    `  kind      ${run.kind} ${run.subject}${run.dryRun ? ' (dry run)' : ''}`,
    `  status    ${run.status}${run.phase ? ` — ${run.phase}` : ''}`,
    `  started   ${run.createdTime}`,
    `  updated   ${run.lastUpdatedTime}`,
  ];
  const custom = obj(run.customStatus);
  if (custom.state === 'awaitingApproval') lines.push(`  held      ${heldLine(run.id, custom)}`);
  if (run.kind === 'rebuild') lines.push(...softwareLines(obj(run.output), custom));
  for (const child of run.children)
    lines.push(`  child     ${child.id}: ${child.status}${child.phase ? ` — ${child.phase}` : ''}`);
  return `${lines.join('\n')}\n`;
}

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new CommandError(`--${name} must be a number, not "${value}"`, EXIT.usage);
  return n;
}

function requestBody(kind: StartKind, values: Record<string, string | boolean | undefined>): unknown {
  const str = (name: string) => values[name] as string | undefined;
  const dryRun = values['dry-run'] ? { dryRun: true } : {};
  if (kind === 'cleanup') return dryRun;
  if (kind === 'rebuild') {
    const images = list(str('image'));
    return {
      ...(images ? { images } : {}),
      ...dryRun,
      ...(str('runner-version') ? { runnerVersion: str('runner-version') } : {}),
      ...(str('runner-sha256') ? { runnerSha256: str('runner-sha256') } : {}),
      ...(str('agent-version') ? { agentVersion: str('agent-version') } : {}),
    };
  }
  if (!str('image'))
    throw new CommandError('--image is required (linux, windows or a definition name)', EXIT.usage);
  if (!str('version')) throw new CommandError('--version is required, e.g. --version 2026.12.1', EXIT.usage);
  const body: Record<string, unknown> = { image: str('image'), version: str('version'), ...dryRun };
  const scaleSets = list(str('scale-sets'));
  if (scaleSets) body.scaleSets = scaleSets;
  const regionOrder = list(str('region-order'));
  if (regionOrder) body.regionOrder = regionOrder;
  for (const [flag, field] of [
    ['batch-percent', 'batchPercent'],
    ['max-unhealthy-percent', 'maxUnhealthyPercent'],
    ['health-deadline-minutes', 'healthDeadlineMinutes'],
    ['busy-wait-hours', 'busyWaitHours'],
    ['pause-minutes', 'pauseMinutes'],
  ] as const) {
    const n = number(flag, str(flag));
    if (n !== undefined) body[field] = n;
  }
  return body;
}

const START_OPTIONS = {
  rebuild: {
    image: { type: 'string' },
    'runner-version': { type: 'string' },
    'runner-sha256': { type: 'string' },
    'agent-version': { type: 'string' },
  },
  rollout: {
    image: { type: 'string' },
    version: { type: 'string' },
    'scale-sets': { type: 'string' },
    'batch-percent': { type: 'string' },
    'max-unhealthy-percent': { type: 'string' },
    'health-deadline-minutes': { type: 'string' },
    'busy-wait-hours': { type: 'string' },
    'pause-minutes': { type: 'string' },
    'region-order': { type: 'string' },
  },
  cleanup: {},
} as const;

const ROUTES: Record<StartKind, string> = {
  rebuild: '/rebuilds',
  rollout: '/rollouts',
  cleanup: '/cleanups',
};

export async function startCommand(kind: StartKind, argv: string[]): Promise<number> {
  const help = START_HELP[kind];
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...COMMON,
        ...START_OPTIONS[kind],
        'dry-run': { type: 'boolean' },
        'no-wait': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    const interval = intervalMs(values.interval as string | undefined);
    const body = requestBody(kind, values as Record<string, string | boolean | undefined>);
    const app = client(values as { app?: string; key?: string });
    const response = await app.request('POST', ROUTES[kind], body);
    const answer = (response.body ?? {}) as {
      id?: string;
      runs?: { id: string; image: string }[];
      error?: string;
    };
    if (response.status === 400 || response.status === 413)
      throw new CommandError(`the app rejected the request: ${errorText(response.body)}`, EXIT.usage);
    if (response.status === 409) {
      const running = answer.runs?.map((r) => r.id) ?? (answer.id ? [answer.id] : []);
      throw new CommandError(
        `${errorText(response.body)}; nothing started${running.length ? ` (follow it: kiln status ${running[0]} --follow)` : ''}`,
        EXIT.failed,
      );
    }
    if (response.status !== 202)
      throw new CommandError(
        `POST /api${ROUTES[kind]} answered ${response.status}: ${errorText(response.body)}`,
        EXIT.unreachable,
      );
    const ids = answer.runs ? answer.runs.map((r) => r.id) : answer.id ? [answer.id] : [];
    if (ids.length === 0)
      throw new CommandError('the app started a run but did not say its id', EXIT.unreachable);
    // Only the ids: the 202's status links carry the durable extension's key.
    process.stderr.write(`started ${ids.join(', ')}\n`);
    if (values['no-wait']) {
      if (values.json) process.stdout.write(`${JSON.stringify({ started: ids })}\n`);
      else process.stdout.write(`${ids.join('\n')}\n`);
      return EXIT.running;
    }
    const runs = await follow(app, ids, { intervalMs: interval, out: process.stderr });
    process.stdout.write(values.json ? `${JSON.stringify({ runs }, null, 2)}\n` : summarise(runs));
    return exitForRuns(runs);
  } catch (error) {
    return fail(kind, error, help);
  }
}

/**
 * `kiln rebuild approve|reject ID`: answers a rebuild PROMOTION_GATE holds
 * (POST /api/rebuilds/{id}/approve|reject), then optionally follows it to its end.
 */
export async function decideCommand(decision: 'approve' | 'reject', argv: string[]): Promise<number> {
  const help = START_HELP.rebuild;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...COMMON, reason: { type: 'string' }, by: { type: 'string' }, follow: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    const [id, ...extra] = positionals;
    if (!id || extra.length > 0)
      throw new CommandError(
        `kiln rebuild ${decision} takes one rebuild id, e.g. rebuild-linux-2026-12`,
        EXIT.usage,
      );
    const interval = intervalMs(values.interval);
    const app = client(values);
    const by = values.by ?? userName();
    const response = await app.request('POST', `/rebuilds/${encodeURIComponent(id)}/${decision}`, {
      ...(by ? { by } : {}),
      ...(values.reason ? { reason: values.reason } : {}),
    });
    if (response.status === 404) throw new CommandError(errorText(response.body), EXIT.usage);
    if (response.status === 400 || response.status === 413)
      throw new CommandError(`the app rejected the request: ${errorText(response.body)}`, EXIT.usage);
    if (response.status === 409) throw new CommandError(errorText(response.body), EXIT.failed);
    if (response.status !== 202)
      throw new CommandError(
        `POST /api/rebuilds/${id}/${decision} answered ${response.status}: ${errorText(response.body)}`,
        EXIT.unreachable,
      );
    const answer = (response.body ?? {}) as { version?: string; by?: string };
    process.stderr.write(
      `${decision === 'approve' ? 'approved' : 'rejected'} ${id}${answer.version ? ` (${answer.version})` : ''} as ${answer.by ?? by ?? 'you'}\n`,
    );
    if (!values.follow) {
      if (values.json) process.stdout.write(`${JSON.stringify({ id, decision, ...answer })}\n`);
      return EXIT.ok;
    }
    const runs = await follow(app, [id], { intervalMs: interval, out: process.stderr });
    process.stdout.write(values.json ? `${JSON.stringify({ runs }, null, 2)}\n` : summarise(runs));
    return exitForRuns(runs);
  } catch (error) {
    return fail(`rebuild ${decision}`, error, help);
  }
}

function userName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}
