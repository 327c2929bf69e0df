import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// S7: the lint rule for src/orchestrations/** forbids the non-deterministic APIs.
const eslint = new ESLint({ cwd: process.cwd() });

async function problems(code: string, filePath = 'src/orchestrations/example.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.message);
}

describe('determinism lint rule (S7)', () => {
  it.each([
    ['Date.now()', 'const t = Date.now();'],
    ['new Date()', 'const t = new Date();'],
    ['Math.random()', 'const r = Math.random();'],
    ['setTimeout', 'setTimeout(() => undefined, 10);'],
    ['fetch', "void fetch('https://example.com');"],
    ['process.env', 'const v = process.env.X;'],
    ['performance.now()', 'const t = performance.now();'],
    ['an I/O import', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;"],
    [
      'a client import',
      "import { createArmClient } from '../clients/arm/index.js';\nexport const f = createArmClient;",
    ],
    [
      'a metrics import',
      "import { startMetrics } from '../telemetry/metrics.js';\nexport const f = startMetrics;",
    ],
  ])('rejects %s in an orchestrator', async (_name, code) => {
    const found = await problems(`${code}\nexport {};\n`);
    expect(found.some((m) => m.includes('S7'))).toBe(true);
  });

  it('allows the same code outside orchestrations, and context time inside', async () => {
    expect(
      (await problems('export const t = Date.now();\n', 'src/activities/example.ts')).filter((m) =>
        m.includes('S7'),
      ),
    ).toEqual([]);
    expect(await problems('export const at = (d: Date) => new Date(d.getTime() + 1000);\n')).toEqual([]);
  });
});
