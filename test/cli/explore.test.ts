/**
 * `kiln explore` as a user runs it: a child process (which re-runs itself trusting the fake CA and
 * forks its workers), exit codes, the summary, finding files that `kiln simulate` runs as is; and
 * the same seed giving the same world and the same report.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { worldOfSeed } from '../../src/local/explore/generate-world.js';
import { runWorld } from '../../src/local/explore/run-world.js';
import type { ExploreSummary } from '../../src/local/explore/summary.js';

function kiln(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['bin/kiln.js', ...args],
      { env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const outDir = () => mkdtempSync(join(tmpdir(), 'kiln-explore-'));

describe('kiln explore', () => {
  it('explores a few seeds end to end: progress on stderr, the summary as JSON on stdout', async () => {
    const out = outDir();
    // Started without the fake CA trusted: explore re-runs itself trusting it, its workers inherit that.
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const { code, stdout, stderr } = await kiln(
      [
        'explore',
        '--seeds',
        '3',
        '--seed',
        '1',
        '--workers',
        '1',
        '--out',
        out,
        '--shrink-minutes',
        '0',
        '--json',
      ],
      env,
    );
    const summary = JSON.parse(stdout) as ExploreSummary;
    expect(summary).toMatchObject({
      worlds: 3,
      seeds: { first: 1, last: 3 },
      workers: 1,
      interrupted: false,
    });
    expect(summary.meanSecondsPerWorld).toBeGreaterThan(0);
    expect(Object.values(summary.outcomes).reduce((a, b) => a + b, 0)).toBe(3);
    for (const seed of [1, 2, 3]) expect(stderr).toMatch(new RegExp(`seed ${seed} .*\\(\\d+\\.\\d s\\)`));
    expect(code, stderr).toBe(summary.findings.length === 0 ? 0 : 1);
    expect(readdirSync(out).sort()).toEqual(summary.files.map((f) => f.slice(out.length + 1)).sort());
  }, 120_000);

  it('prints a readable summary without --json', async () => {
    const { code, stdout, stderr } = await kiln([
      'explore',
      '--seeds',
      '2',
      '--seed',
      '3',
      '--workers',
      '2',
      '--out',
      outDir(),
      '--shrink-minutes',
      '0',
    ]);
    expect([0, 1], stderr).toContain(code);
    expect(stdout).toMatch(/^kiln explore — 2 worlds, seeds 3–4, 2 workers/);
    expect(stdout).toMatch(/mean per world +\d+\.\d\d s/);
    expect(stdout).toMatch(/violations/);
    expect(stdout).toMatch(/files written +\d+/);
  }, 120_000);

  it('writes each finding as a scenario that kiln simulate runs and that breaks the same invariant', async () => {
    const out = outDir();
    // Seed 73 broke S5 when this test was written; whatever it shows now, its files must hold.
    const { code, stdout, stderr } = await kiln([
      'explore',
      '--seeds',
      '1',
      '--seed',
      '73',
      '--workers',
      '1',
      '--out',
      out,
      '--shrink-minutes',
      '0.3',
      '--json',
    ]);
    const summary = JSON.parse(stdout) as ExploreSummary;
    expect(code, stderr).toBe(summary.findings.length === 0 ? 0 : 1);
    for (const finding of summary.findings) {
      expect(existsSync(finding.file)).toBe(true);
      expect(finding.file).toBe(join(out, `seed-73-${finding.kind}.yaml`));
      const text = readFileSync(finding.file, 'utf8');
      expect(text).toMatch(new RegExp(`^# kiln explore finding: .*\\(seed 73\\)`));
      expect(text).toContain(`CLIENT_RETRY_BASE_MS=1 kiln simulate --scenario ${finding.file}`);
      for (const v of finding.fileViolations) expect(text).toContain(`#   ${v.invariant} ${v.subject}`);
      if (finding.kind === 'crash' || finding.kind === 'hang') continue;
      const replay = await kiln(['simulate', '--scenario', finding.file, '--report', 'json'], {
        ...process.env,
        CLIENT_RETRY_BASE_MS: '1',
      });
      expect(replay.code, replay.stderr).toBe(1);
      const report = JSON.parse(replay.stdout) as { violations: { invariant: string }[] };
      expect(report.violations.map((v) => v.invariant)).toContain(finding.kind);
    }
  }, 240_000);

  it('gives the same world and the same report for the same seed', async () => {
    // Twice in one process, as a worker runs worlds one after another: nothing of the first run may
    // reach the second (the report has no wall-clock field; `seconds` is outside it).
    for (const seed of [73, 2]) {
      const first = await runWorld(worldOfSeed(seed));
      const second = await runWorld(worldOfSeed(seed));
      expect(first.crash).toBeUndefined();
      expect(JSON.stringify(second.report)).toBe(JSON.stringify(first.report));
    }
  }, 120_000);

  it.each([
    [['--seeds', '0'], /--seeds must be a whole number/],
    [['--seeds', 'ten'], /--seeds must be a whole number/],
    [['--seed=-1'], /--seed must be a whole number/],
    [['--workers', '0'], /--workers must be a whole number from 1 to 64/],
    [['--minutes', '0'], /--minutes must be a number of minutes above 0/],
    [['--shrink-minutes', 'soon'], /--shrink-minutes must be a number/],
    [['--shrink-per-kind', '1.5'], /--shrink-per-kind must be a whole number/],
    [['--seed', '2147483647', '--seeds', '2'], /goes past the last seed/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--seeds'], /argument missing|--seeds/],
    [['extra'], /Unexpected argument 'extra'|positional/i],
  ])('exits 2 for bad arguments: %j', async (args, message) => {
    const { code, stderr, stdout } = await kiln(['explore', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage:\n  kiln explore');
  });

  it('answers --help on stdout with exit 0, and is listed in kiln help', async () => {
    const help = await kiln(['explore', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^kiln explore — /);
    const usage = await kiln(['help']);
    expect(usage.stdout).toMatch(/explore +Run many small random worlds/);
  });
});
