// Regenerates the settings table, the retry tables and the exit code table in README.md from
// src/config/settings.ts, src/retry-policy.ts and src/cli/exit-codes.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withExitCodeTable } from '../src/cli/exit-codes.js';
import { withSettingsTable } from '../src/config/settings-table.js';
import { withRetryTable } from '../src/retry-table.js';

writeFileSync(
  'README.md',
  withExitCodeTable(withRetryTable(withSettingsTable(readFileSync('README.md', 'utf8')))),
);
console.log('README.md settings, retry and exit code tables updated');
