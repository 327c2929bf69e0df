// Regenerates the settings table, the retry tables, the exit code table and the metrics table in
// README.md from src/config/settings.ts, src/retry-policy.ts, src/cli/exit-codes.ts and
// src/telemetry/instruments.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withExitCodeTable } from '../src/cli/exit-codes.js';
import { withSettingsTable } from '../src/config/settings-table.js';
import { withRetryTable } from '../src/retry-table.js';
import { withMetricsTable } from '../src/telemetry/metrics-table.js';

writeFileSync(
  'README.md',
  withMetricsTable(withExitCodeTable(withRetryTable(withSettingsTable(readFileSync('README.md', 'utf8'))))),
);
console.log('README.md settings, retry, exit code and metrics tables updated');
