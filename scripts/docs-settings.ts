// Regenerates the settings table in README.md from src/config/settings.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../src/config/settings-table.js';

writeFileSync('README.md', withSettingsTable(readFileSync('README.md', 'utf8')));
console.log('README.md settings table updated');
