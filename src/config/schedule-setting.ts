/**
 * Timer schedules are needed when functions are registered, before anything else is loaded, so
 * they are read here on their own (same schema and default as in the full loader).
 */
import { SETTINGS } from './settings.js';
import { SettingsError, type Env } from './load-settings.js';

type ScheduleName =
  'CLEANUP_SCHEDULE' | 'REBUILD_SCHEDULE' | 'RUNNER_RELEASE_SCHEDULE' | 'AUTOSCALE_SCHEDULE';

export function scheduleSetting(name: ScheduleName, env: Env = process.env): string {
  const { spec, schema } = SETTINGS[name];
  const raw = env[name];
  const result = schema.safeParse(raw === undefined || raw.trim() === '' ? undefined : raw);
  if (!result.success) {
    throw new SettingsError([
      {
        setting: name,
        problem: `${result.error.issues[0]?.message ?? 'is invalid'} (got "${raw}")`,
        example: spec.example,
      },
    ]);
  }
  return result.data;
}
