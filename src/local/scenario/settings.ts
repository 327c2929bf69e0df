/**
 * A scenario's `settings`: app settings (the names of src/config/settings.ts) the simulated app runs
 * with, over the environment's. Each value is checked as the app's settings loader checks it, so a
 * bad one fails the scenario (exit 2) naming `settings.<NAME>` before anything runs. Settings the
 * simulator controls itself are refused: the fake cloud's endpoints, identities and names, and
 * DRY_RUN (the scenario's `dryRun`).
 */
import { readSetting } from '../../config/load-settings.js';
import { SETTINGS, type SettingName } from '../../config/settings.js';
import { FAKE_CLOUD_SETTINGS } from '../fake-cloud/app-settings.js';
import { describe, type Collector } from './problems.js';

const SET_BY_THE_SIMULATOR: ReadonlySet<string> = new Set([...FAKE_CLOUD_SETTINGS, 'DRY_RUN']);

/** The settings a scenario may give, in the settings table's order. */
export const SCENARIO_SETTING_NAMES = (Object.keys(SETTINGS) as SettingName[]).filter(
  (name) => !SET_BY_THE_SIMULATOR.has(name),
);

/** The valid settings, as the strings an app setting holds; every problem goes to the collector. */
export function checkSettings(given: Record<string, unknown>, c: Collector): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, raw] of Object.entries(given)) {
    const path = ['settings', name];
    if (!Object.hasOwn(SETTINGS, name)) {
      c.unknownKey(['settings'], name, SCENARIO_SETTING_NAMES, 'among the app settings a scenario may set');
      continue;
    }
    if (name === 'DRY_RUN') {
      c.add(
        path,
        "is set from the scenario's dryRun (or kiln simulate --dry-run): write dryRun: true instead",
        true,
      );
      continue;
    }
    if (SET_BY_THE_SIMULATOR.has(name)) {
      c.add(
        path,
        'is set by the fake cloud, which points kiln at its own endpoints, identities and names: a scenario cannot change it',
        true,
      );
      continue;
    }
    if (raw === null || raw === undefined) continue;
    const { example } = SETTINGS[name as SettingName].spec;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      c.add(
        path,
        `expected a setting value (text, a number or true/false) such as ${example}, got ${describe(raw)}`,
      );
      continue;
    }
    const value = String(raw);
    const read = readSetting(name as SettingName, value);
    if ('problem' in read) c.add(path, `${read.problem} (example: ${example})`);
    else settings[name] = value;
  }
  return settings;
}
