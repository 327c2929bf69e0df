import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES } from '../../src/cli/exit-codes.js';
import { main } from '../../src/cli/main.js';

// kiln is not on the npm registry under its name: outside a clone a bare `npx kiln` (or `npm exec
// kiln`) would download and run an unrelated package called kiln. Every documented command says
// --no-install (or --no), which runs the clone's own bin or refuses.

/** npx or npm exec running kiln, and the options given before it. */
const RUNS_KILN = /\b(?:npx|npm\s+exec)((?:\s+-[-\w=]+)*)\s+(?:--\s+)?kiln\b/g;

function bareRuns(text: string): string[] {
  return [...text.matchAll(RUNS_KILN)]
    .filter((m) => !/(?:^|\s)(?:--no-install|--no)(?=\s|$)/.test(m[1]!))
    .map((m) => m[0]);
}

/** Every Markdown file of the repository (not dependencies, tools or outputs). */
function markdownFiles(dir = '.'): string[] {
  const skip = new Set(['node_modules', '.tools', '.git', 'dist', 'test-results', 'coverage']);
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return skip.has(entry.name) ? [] : markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

async function helpText(argv: string[]): Promise<string> {
  let text = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    text += String(chunk);
    return true;
  });
  try {
    await main(argv);
  } finally {
    out.mockRestore();
  }
  return text;
}

describe('no documented command runs a kiln from the npm registry', () => {
  it('tells a bare npx kiln from the safe forms', () => {
    expect(bareRuns('npx kiln simulate')).toEqual(['npx kiln']);
    expect(bareRuns('npx --yes kiln plan')).toEqual(['npx --yes kiln']);
    expect(bareRuns('npm exec -- kiln doctor')).toEqual(['npm exec -- kiln']);
    expect(bareRuns('npx --no-install kiln simulate')).toEqual([]);
    expect(bareRuns('npm exec --no -- kiln simulate')).toEqual([]);
    expect(bareRuns('kiln simulate; node bin/kiln.js help')).toEqual([]);
  });

  it('in any Markdown file of the repository', () => {
    const files = markdownFiles();
    expect(files).toEqual(
      expect.arrayContaining(['README.md', join('docs', 'design.md'), join('scenarios', 'README.md')]),
    );
    const found = files.flatMap((file) =>
      bareRuns(readFileSync(file, 'utf8')).map((run) => `${file}: ${run}`),
    );
    expect(found).toEqual([]);
  });

  it('in the scripts of package.json and the comments of bin/kiln.js', () => {
    expect(bareRuns(readFileSync('package.json', 'utf8'))).toEqual([]);
    expect(bareRuns(readFileSync('bin/kiln.js', 'utf8'))).toEqual([]);
  });

  it("in kiln's help and every command's help", async () => {
    const texts = [await helpText(['help'])];
    for (const command of COMMAND_NAMES) texts.push(await helpText([command, '--help']));
    expect(texts.every((t) => t.includes('Usage:'))).toBe(true);
    expect(texts.flatMap(bareRuns)).toEqual([]);
  });
});
