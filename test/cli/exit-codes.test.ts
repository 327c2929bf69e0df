import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import {
  COMMAND_NAMES,
  EXIT_CASES,
  exitCodesHelp,
  exitCodesSummary,
  exitForRun,
  exitForRuns,
  renderExitCodeTable,
} from '../../src/cli/exit-codes.js';
import { DISPATCHED_COMMANDS, main } from '../../src/cli/main.js';

// One exit code table for every command: the README shows it, every command's --help lists its
// rows, and a followed run's code comes from its outcome.

async function help(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    return { code: await main(argv), stdout };
  } finally {
    out.mockRestore();
  }
}

describe('exit codes', () => {
  it('keeps the README table equal to the module', () => {
    expect(readFileSync('README.md', 'utf8')).toContain(renderExitCodeTable());
  });

  it('lists every command kiln dispatches', () => {
    expect([...COMMAND_NAMES].sort()).toEqual([...DISPATCHED_COMMANDS].sort());
  });

  it.each(COMMAND_NAMES)("prints %s's rows of the table in its --help", async (command) => {
    const { code, stdout } = await help([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(exitCodesHelp(command));
    // Every code the command can return is explained there, and no other.
    const listed = [...exitCodesHelp(command).matchAll(/^ {2}(\d+) /gm)].map((m) => Number(m[1]));
    expect(new Set(listed)).toEqual(
      new Set(EXIT_CASES.filter((c) => c.commands.includes(command)).map((c) => c.code)),
    );
  });

  it('prints what each code means in kiln help', async () => {
    const { code, stdout } = await help(['help']);
    expect(code).toBe(0);
    expect(stdout).toContain(exitCodesSummary());
    expect(exitCodesSummary()).toMatch(/^ {2}4 {4}the run has not ended yet$/m);
  });

  it.each([
    ['Completed', 'succeeded', 0],
    ['Completed', 'promoted', 0],
    ['Completed', 'planned', 0],
    ['Completed', 'skipped', 0],
    ['Completed', 'partial', 1],
    ['Completed', 'rolledBack', 1],
    ['Completed', 'rejected', 1],
    ['Completed', 'failed', 1],
    ['Completed', 'errors', 1],
    // An outcome the CLI does not know, or none, is not taken for success.
    ['Completed', 'somethingNew', 1],
    ['Completed', undefined, 1],
    ['Failed', undefined, 1],
    ['Terminated', undefined, 1],
    ['Running', undefined, 4],
    ['Pending', undefined, 4],
    ['ContinuedAsNew', undefined, 4],
  ] as const)('a run %s with outcome %s exits %d', (status, outcome, code) => {
    expect(exitForRun({ status, outcome })).toBe(code);
  });

  it('gives runs started together the code of the worst of them', () => {
    const ok = { status: 'Completed', outcome: 'promoted' };
    const failed = { status: 'Completed', outcome: 'rejected' };
    const running = { status: 'Running' };
    expect(exitForRuns([ok, ok])).toBe(0);
    expect(exitForRuns([ok, running])).toBe(4);
    expect(exitForRuns([running, failed])).toBe(1);
    expect(exitForRuns([failed, ok])).toBe(1);
  });
});
