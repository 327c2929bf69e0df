/**
 * The fake cloud serves HTTPS with its own CA, and Node reads extra CAs (NODE_EXTRA_CA_CERTS) only at
 * start-up. Commands that start the fake cloud re-run themselves once with a bundle of the user's
 * extra CAs and the fake cloud's — the way a user trusts a private CA for GitHub Enterprise Server.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureFakeCa } from '../local/tls/fake-ca.js';

/** undefined when this process already trusts the fake CA; else the exit code of the trusting re-run. */
export function runTrustingFakeCa(): Promise<number> | undefined {
  const ca = ensureFakeCa();
  const trusted = process.env.NODE_EXTRA_CA_CERTS;
  if (trusted === ca.certPath || trusted?.endsWith('kiln-trust.pem')) return undefined;
  return respawnTrusting(ca.certPath);
}

/** Re-runs this command trusting the user's extra CAs and the fake cloud's. */
function respawnTrusting(fakeCaPath: string): Promise<number> {
  const bundle = join(fakeCaPath, '..', 'kiln-trust.pem');
  writeFileSync(bundle, `${trustedCas()}\n${readFileSync(fakeCaPath, 'utf8')}`, { mode: 0o644 });
  return rerunWith({ NODE_EXTRA_CA_CERTS: bundle });
}

/** The PEM text of the CAs this process was started trusting (NODE_EXTRA_CA_CERTS); '' when none. */
export function trustedCas(): string {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  if (!path) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Re-runs this command (same Node flags and arguments) with these environment values added, and
 * resolves with its exit code. Signals sent to this process (Ctrl+C, `kill PID`) are passed on, so
 * stopping the parent stops the command.
 */
export function rerunWith(env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    child.on('exit', (code, signal) => {
      for (const [s, handler] of handlers) process.off(s, handler);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
