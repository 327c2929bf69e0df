/**
 * What `kiln plan` and `kiln doctor` share: reading app settings from the environment or a
 * `--settings` file (a JSON object of app settings, or a local.settings.json with `Values`), putting
 * them into process.env for the real clients (DefaultAzureCredential reads AZURE_* from there too) and
 * putting the environment back afterwards, so an in-process caller (a test) sees no change.
 */
import { readFileSync } from 'node:fs';
import { VirtualClock } from '../local/clock.js';

export class SettingsFileError extends Error {
  override readonly name = 'SettingsFileError';
}

/**
 * Reads a settings file. Values must be strings, numbers or booleans (app settings are strings;
 * numbers and booleans are written as text); anything else names the key.
 */
export function readSettingsFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SettingsFileError(
      `cannot read the settings file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettingsFileError(`the settings file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed))
    throw new SettingsFileError(`the settings file ${path} must hold a JSON object of app settings`);
  // local.settings.json keeps the app settings under "Values" (with IsEncrypted beside them).
  const values = 'Values' in parsed ? parsed.Values : parsed;
  if (!isObject(values))
    throw new SettingsFileError(`"Values" in the settings file ${path} must be an object of app settings`);
  if ('IsEncrypted' in parsed && parsed.IsEncrypted === true)
    throw new SettingsFileError(
      `the settings file ${path} is encrypted (IsEncrypted: true); decrypt it with "func settings decrypt" first`,
    );
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else if (value !== null)
      throw new SettingsFileError(
        `setting ${key} in ${path} must be a string, number or boolean (app settings are text)`,
      );
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Applies `values` over process.env and returns the function that puts the environment back. */
export function applySettings(values: Record<string, string>): () => void {
  const previous = { ...process.env };
  Object.assign(process.env, values);
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in previous)) delete process.env[key];
    Object.assign(process.env, previous);
  };
}

/**
 * A clock that reads the wall clock. The local runner stamps history with it, so orchestrations see
 * the real time; durable timers are queued on it and fire only when their real time has come. A
 * plan never advances it: whatever waits on a timer is reported as waiting, not waited for.
 */
export class WallClock extends VirtualClock {
  constructor() {
    super(Date.now());
  }

  override nowMs(): number {
    this.advanceTo(Date.now());
    return super.nowMs();
  }

  override now(): Date {
    return new Date(this.nowMs());
  }
}

/** A plain-text table: a header row, a rule, and the rows, columns padded to their widest cell. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
