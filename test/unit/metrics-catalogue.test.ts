import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/telemetry/instruments.js';
import { renderMetricsTable } from '../../src/telemetry/metrics-table.js';

describe('metric catalogue (src/telemetry/instruments.ts)', () => {
  it('names every metric once, under kiln., in OpenTelemetry style', () => {
    const names = Object.values(METRICS).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^kiln(\.[a-z][a-z_]*)+$/);
    for (const m of Object.values(METRICS))
      for (const a of m.attributes) expect(a, m.name).toMatch(/^[a-z][a-z_]*$/);
  });

  it('keeps the README table equal to the catalogue', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(renderMetricsTable());
  });
});
