/**
 * kiln's exit codes: one table for every command, so a script reads a code the same way whichever
 * command it ran. The commands return only these codes (EXIT), a followed run's code comes from
 * RUN_OUTCOME_EXIT, and every command's --help and the README's table are rendered from EXIT_CASES
 * (a test keeps the README equal to it), so what the help says and what the commands do cannot drift.
 */
import type { ImageState } from '../orchestrations/rebuild.js';
import type { RolloutState } from '../domain/rollout-targets.js';
import { isActiveStatus } from '../run-status.js';
import { replaceGeneratedBlock } from '../generated-block.js';

export const EXIT = {
  /** Done as asked. */
  ok: 0,
  /** Not done as asked: a run ended badly, a check failed, an invariant broke, nothing was started. */
  failed: 1,
  /** Bad input: arguments, a scenario, settings, a request the app rejected. */
  usage: 2,
  /** The app cannot be reached, refused the key or failed. */
  unreachable: 3,
  /** The run has not ended yet: its outcome is not known. */
  running: 4,
  /** Stopped by Ctrl+C before the end. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each code means whatever the command (the usage line of `kiln help`). */
const MEANING: Record<ExitCode, string> = {
  0: 'done as asked',
  1: 'not done as asked: a run failed, a check failed, an invariant broke',
  2: 'bad arguments, scenario or settings',
  3: 'the app cannot be reached or refused the key',
  4: 'the run has not ended yet',
  130: 'stopped by Ctrl+C',
};

export type CommandName =
  'simulate' | 'serve' | 'status' | 'rebuild' | 'rollout' | 'cleanup' | 'plan' | 'doctor' | 'explore';

/**
 * Every outcome the app reports for a run that completed (GET /api/runs: a rollout's state, a
 * rebuild's image state, a cleanup's or a runner-release watch's result) and the code it exits with.
 * The type makes a new outcome a compile error until it has a code here.
 */
export type RunOutcome = RolloutState | ImageState | 'errors';

export const RUN_OUTCOME_EXIT: Record<RunOutcome, ExitCode> = {
  succeeded: EXIT.ok,
  promoted: EXIT.ok,
  planned: EXIT.ok,
  // Nothing to do by design: an image no managed scale set uses, scale sets that already run a
  // newer version (S8) or that kiln does not roll (not Uniform, not Manual).
  skipped: EXIT.ok,
  partial: EXIT.failed,
  rolledBack: EXIT.failed,
  rejected: EXIT.failed,
  failed: EXIT.failed,
  errors: EXIT.failed,
};

/**
 * The code for one run as GET /api/runs/{id} shows it: still going → 4; completed → by its outcome
 * (none, or one this table does not know, is not taken for success); failed or terminated → 1.
 */
export function exitForRun(run: { status: string; outcome?: string }): ExitCode {
  if (isActiveStatus(run.status)) return EXIT.running;
  return run.status === 'Completed' &&
    run.outcome !== undefined &&
    Object.hasOwn(RUN_OUTCOME_EXIT, run.outcome)
    ? RUN_OUTCOME_EXIT[run.outcome as RunOutcome]
    : EXIT.failed;
}

/** The code for several runs started together (a rebuild of both images): the worst of theirs. */
export function exitForRuns(runs: { status: string; outcome?: string }[]): ExitCode {
  const codes = runs.map(exitForRun);
  if (codes.includes(EXIT.failed)) return EXIT.failed;
  if (codes.includes(EXIT.running)) return EXIT.running;
  return EXIT.ok;
}

const outcomes = (code: ExitCode) =>
  (Object.keys(RUN_OUTCOME_EXIT) as RunOutcome[]).filter((o) => RUN_OUTCOME_EXIT[o] === code).join(', ');

const STARTS: CommandName[] = ['rebuild', 'rollout', 'cleanup'];
const RUNS: CommandName[] = [...STARTS, 'status'];
/** Every command of `kiln` (main.ts dispatches exactly these; a test holds the two equal). */
export const COMMAND_NAMES: CommandName[] = [
  'simulate',
  'serve',
  'status',
  'rebuild',
  'rollout',
  'cleanup',
  'plan',
  'doctor',
  'explore',
];

export interface ExitCase {
  code: ExitCode;
  when: string;
  commands: CommandName[];
}

/** Every way a command ends and its code, in the order of the table. */
export const EXIT_CASES: ExitCase[] = [
  {
    code: EXIT.ok,
    when: `the run ended as asked: ${outcomes(EXIT.ok)} (a scale set already on the version counts as succeeded; skipped: nothing for kiln to do, e.g. an image no managed scale set uses)`,
    commands: RUNS,
  },
  { code: EXIT.ok, when: 'without RUN: the recent runs were listed', commands: ['status'] },
  {
    code: EXIT.ok,
    when: 'approve|reject ID: the answer reached the held rebuild (without --follow)',
    commands: ['rebuild'],
  },
  {
    code: EXIT.ok,
    when: 'every run ended as the scenario expects (expect.outcome, default succeeded), no invariant broke, no request was refused for want of a role and no API contract was broken',
    commands: ['simulate'],
  },
  { code: EXIT.ok, when: 'every flow was planned', commands: ['plan'] },
  { code: EXIT.ok, when: 'every check passed (– marks one that does not apply)', commands: ['doctor'] },
  { code: EXIT.ok, when: 'stopped by Ctrl+C or SIGTERM', commands: ['serve'] },
  { code: EXIT.ok, when: 'no world broke an invariant', commands: ['explore'] },
  { code: EXIT.ok, when: '--help: the help was printed', commands: COMMAND_NAMES },
  {
    code: EXIT.failed,
    when: `the run ended otherwise: ${outcomes(EXIT.failed)}, or its orchestration failed or was terminated`,
    commands: RUNS,
  },
  {
    code: EXIT.failed,
    when: 'the same run is already going (409): nothing was started',
    commands: STARTS,
  },
  {
    code: EXIT.failed,
    when: 'approve|reject ID: the rebuild is not awaiting approval (409): nothing was changed',
    commands: ['rebuild'],
  },
  {
    code: EXIT.failed,
    when: 'a run did not end as the scenario expects, an invariant broke, a request was refused for want of a role or an API contract was broken',
    commands: ['simulate'],
  },
  {
    code: EXIT.failed,
    when: 'something could not be planned: no Azure credential, a failed read, a run that failed (the plan names it)',
    commands: ['plan'],
  },
  { code: EXIT.failed, when: 'a check failed (✗, with its fix; a bad setting is one)', commands: ['doctor'] },
  { code: EXIT.failed, when: 'could not start (e.g. the port is in use)', commands: ['serve'] },
  {
    code: EXIT.failed,
    when: 'a world broke an invariant or crashed the simulator, or a worker could not start',
    commands: ['explore'],
  },
  { code: EXIT.usage, when: 'bad arguments (the message names the option)', commands: COMMAND_NAMES },
  {
    code: EXIT.usage,
    when: 'the app rejected the request (400, 413; the message names the field)',
    commands: STARTS,
  },
  { code: EXIT.usage, when: 'no run has that id (404)', commands: ['status'] },
  { code: EXIT.usage, when: 'approve|reject ID: no rebuild has that id (404)', commands: ['rebuild'] },
  {
    code: EXIT.usage,
    when: 'a bad --scenario file (the message names the field)',
    commands: ['simulate', 'serve', 'plan', 'doctor'],
  },
  {
    code: EXIT.usage,
    when: 'a --roles file that is not a compiled ARM template',
    commands: ['simulate'],
  },
  {
    code: EXIT.usage,
    when: 'bad settings (every problem listed; nothing runs)',
    commands: ['simulate', 'serve', 'plan'],
  },
  { code: EXIT.usage, when: 'an unreadable --settings or --ca file', commands: ['plan', 'doctor'] },
  {
    code: EXIT.unreachable,
    when: 'the app cannot be reached, refused the key (401, 403) or failed (5xx)',
    commands: RUNS,
  },
  {
    code: EXIT.running,
    when: '--no-wait: the run was started and goes on (kiln status ID --follow)',
    commands: STARTS,
  },
  { code: EXIT.running, when: 'RUN has not ended yet (without --follow)', commands: ['status'] },
  {
    code: EXIT.interrupted,
    when: 'stopped by Ctrl+C before the end',
    commands: ['explore'],
  },
];

/** The codes a command can return. */
export function exitCodesOf(command: CommandName): ExitCode[] {
  return [...new Set(EXIT_CASES.filter((c) => c.commands.includes(command)).map((c) => c.code))];
}

/** `text` after `label`, its words wrapped to 100 columns, continuation lines under the text. */
function labelled(label: string, text: string): string {
  const indent = ' '.repeat(label.length);
  const lines: string[] = [];
  let line = label;
  for (const word of text.split(' ')) {
    if (line.length > indent.length && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = indent + word;
    } else line = line.length > indent.length ? `${line} ${word}` : `${line}${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/** The "Exit codes" section of a command's --help: its cases, one per line. */
export function exitCodesHelp(command: CommandName): string {
  const lines = EXIT_CASES.filter((c) => c.commands.includes(command)).map((c) =>
    labelled(`  ${String(c.code).padEnd(5)}`, c.when),
  );
  return `Exit codes:\n${lines.join('\n')}\n`;
}

/** What each code means, for `kiln help`. */
export function exitCodesSummary(): string {
  const lines = (Object.entries(MEANING) as [string, string][]).map(([code, meaning]) =>
    labelled(`  ${code.padEnd(5)}`, meaning),
  );
  return `Exit codes, the same for every command:\n${lines.join('\n')}\n`;
}

const TABLE_BEGIN = '<!-- exit-codes:begin (generated by npm run docs:settings) -->';
const TABLE_END = '<!-- exit-codes:end -->';

/** The README's exit code table. */
export function renderExitCodeTable(): string {
  const rows = EXIT_CASES.map((c) => {
    const commands =
      c.commands.length === COMMAND_NAMES.length
        ? 'every command'
        : c.commands.map((n) => `\`${n}\``).join(' ');
    return `| \`${c.code}\` | ${c.when} | ${commands} |`;
  });
  return [TABLE_BEGIN, '| Code | When | Commands |', '|---|---|---|', ...rows, TABLE_END].join('\n');
}

/** Replaces the generated exit code table in a README text. */
export function withExitCodeTable(readme: string): string {
  return replaceGeneratedBlock(
    readme,
    { begin: TABLE_BEGIN, end: TABLE_END, what: 'exit code table' },
    renderExitCodeTable(),
  );
}
