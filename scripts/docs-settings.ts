// Regenerates the settings table and the retry tables in README.md from src/config/settings.ts and
// src/retry-policy.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../src/config/settings-table.js';
import { withRetryTable } from '../src/retry-table.js';

writeFileSync('README.md', withRetryTable(withSettingsTable(readFileSync('README.md', 'utf8'))));
console.log('README.md settings and retry tables updated');
