/**
 * The settings a simulation ran with that differ from kiln's defaults, and where each came from, so a
 * report says how its result was obtained. Left out: what the fake cloud sets to point kiln at itself
 * (its endpoints, identities and names) and DRY_RUN (the report's `dryRun`). Values go through the
 * settings loader's mask, so one that looks like a credential is never shown.
 */
import { mask, readSetting } from '../../config/load-settings.js';
import { SETTINGS, type SettingName } from '../../config/settings.js';
import { FAKE_CLOUD_SETTINGS } from '../fake-cloud/app-settings.js';

export interface SettingUsed {
  name: string;
  value: string;
  /** The scenario's `settings`, the environment kiln simulate ran in, or the simulator itself (or the program running it). */
  from: 'scenario' | 'environment' | 'simulator';
}

const NOT_A_CHOICE: ReadonlySet<string> = new Set([...FAKE_CLOUD_SETTINGS, 'DRY_RUN']);

/**
 * `layers`: what the simulation set on top of the environment, the one that wins first (a setting in
 * none of them came from the environment).
 */
export function settingsUsed(
  env: Record<string, string | undefined>,
  layers: [from: SettingUsed['from'], settings: Record<string, string>][],
): SettingUsed[] {
  const used: SettingUsed[] = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = env[name];
    if (value === undefined || NOT_A_CHOICE.has(name)) continue;
    // Compared as the app reads them: " 30 " is the default of 30.
    const read = readSetting(name, value);
    const fallback = readSetting(name, undefined);
    if (
      'value' in read &&
      'value' in fallback &&
      JSON.stringify(read.value) === JSON.stringify(fallback.value)
    )
      continue;
    const from = layers.find(([, settings]) => name in settings)?.[0] ?? 'environment';
    used.push({ name, value: mask(name, value), from });
  }
  return used;
}
