// Regenerates the settings table, the retry tables and the metrics table in README.md from
// src/config/settings.ts, src/retry-policy.ts and src/telemetry/instruments.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../src/config/settings-table.js';
import { withRetryTable } from '../src/retry-table.js';
import { withMetricsTable } from '../src/telemetry/metrics-table.js';

writeFileSync(
  'README.md',
  withMetricsTable(withRetryTable(withSettingsTable(readFileSync('README.md', 'utf8')))),
);
console.log('README.md settings, retry and metrics tables updated');
