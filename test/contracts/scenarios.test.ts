/**
 * Every shipped scenario keeps the contract: no request kiln sends and no answer the fakes give
 * breaks the official API descriptions (src/local/contracts). A violation names the operation, the
 * field and the rule, and fails the scenario that caused it.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatViolation } from '../../src/local/contracts/index.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

const ROOT = resolve(import.meta.dirname, '..', '..', 'scenarios');
const files = [
  ...readdirSync(ROOT).filter((f) => f.endsWith('.yaml')),
  ...readdirSync(resolve(ROOT, 'adversarial'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `adversarial/${f}`),
];

describe('shipped scenarios keep the official API contracts', () => {
  it.each(files)(
    '%s',
    async (file) => {
      const scenario = loadScenarioFile(resolve(ROOT, file));
      const result = await runSimulation(scenario, {
        keepRunning: true,
        settings: { CLIENT_RETRY_BASE_MS: '1' },
        // Roles are another test's subject (and need the compiled Bicep): every identity may act here.
        roles: 'all',
      });
      await result.close();
      const violations = result.cloud.contractViolations;
      // Deduplicated lines for a readable failure: operation, side, field, rule.
      expect([...new Set(violations.map(formatViolation))]).toEqual([]);
      expect(result.report.contractViolations).toEqual([]);
    },
    120_000,
  );
});
