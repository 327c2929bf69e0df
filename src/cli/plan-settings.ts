/**
 * What `kiln plan` and `kiln doctor` share: reading app settings from the environment or a
 * `--settings` file (a JSON object of app settings, or a local.settings.json with `Values`), putting
 * them into process.env for the real clients (DefaultAzureCredential reads AZURE_* from there too) and
 * putting the environment back afterwards, so an in-process caller (a test) sees no change.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../local/clock.js';
import { rerunWith, trustedCas } from './trust.js';

class SettingsFileError extends Error {
  override readonly name = 'SettingsFileError';
}

/**
 * Reads a settings file. Values must be strings, numbers or booleans (app settings are strings;
 * numbers and booleans are written as text); anything else names the key.
 */
function readSettingsFile(path: string): Record<string, string> {
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

/**
 * `--settings FILE` and `--ca FILE` as plan and doctor take them: the file's settings, or the exit
 * code to return — 2 (the message on standard error) for an unreadable file, or that of the re-run
 * trusting the CA.
 */
export async function settingsFromArguments(
  command: string,
  values: { settings?: string; ca?: string },
): Promise<{ fileValues: Record<string, string>; exit?: undefined } | { exit: number }> {
  try {
    const fileValues = values.settings !== undefined ? readSettingsFile(values.settings) : {};
    const rerun = values.ca !== undefined ? runTrustingCa(values.ca) : undefined;
    return rerun ? { exit: await rerun } : { fileValues };
  } catch (error) {
    if (!(error instanceof SettingsFileError)) throw error;
    process.stderr.write(`kiln ${command}: ${error.message}\n`);
    return { exit: 2 };
  }
}

/**
 * Node reads extra CAs (NODE_EXTRA_CA_CERTS) only at start-up. `--ca FILE` (a private CA, e.g. of
 * GitHub Enterprise Server or a TLS-inspecting proxy) re-runs the command once with a bundle of the
 * CAs already trusted and FILE. Returns undefined when this process already runs with the bundle, else
 * the re-run's exit code. Signals are passed on, so Ctrl+C stops the re-run too.
 */
function runTrustingCa(caFile: string): Promise<number> | undefined {
  if (process.env.KILN_CA_BUNDLE_DONE === '1') return undefined;
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new SettingsFileError(
      `cannot read the CA file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new SettingsFileError(`the CA file ${caFile} holds no PEM certificate`);
  const bundle = join(mkdtempSync(join(tmpdir(), 'kiln-ca-')), 'trust.pem');
  writeFileSync(bundle, `${trustedCas()}\n${ca}`, { mode: 0o600 });
  return rerunWith({ NODE_EXTRA_CA_CERTS: bundle, KILN_CA_BUNDLE_DONE: '1' });
}
