/**
 * Azurite, the real Table storage emulator, from node_modules (a dev dependency): started on
 * 127.0.0.1 on a free port over HTTPS with the fake cloud's CA (trusted through NODE_EXTRA_CA_CERTS,
 * as for the fakes), with its OAuth check on so bearer tokens are judged too (audience, issuer and
 * lifetime, not the signature), in a temporary folder, and stopped by the PID it was started with.
 * The Table storage tests run their shared cases against it, and `kiln serve` keeps the app's own
 * tables in it. Dev and test only: never part of the deployed bundle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureFakeCa } from './tls/fake-ca.js';

/** Azurite's development account: a documented, public key (https://learn.microsoft.com/azure/storage/common/storage-use-azurite). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** The account's Table endpoint, e.g. https://127.0.0.1:41234/devstoreaccount1. */
  endpoint: string;
  pid: number;
  /** Stops Azurite by its PID and removes its folder. */
  stop(): Promise<void>;
}

/** Where Azurite's Table service starts, or undefined when Azurite is not installed. */
export function azuriteTableMain(): string | undefined {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('azurite/package.json'));
    return join(root, 'dist/src/table/main.js');
  } catch {
    return undefined;
  }
}

export async function startAzurite(timeoutMs = 30_000): Promise<Azurite> {
  const main = azuriteTableMain();
  if (!main) throw new Error('Azurite is not installed (npm ci installs it as a dev dependency)');
  const folder = mkdtempSync(join(tmpdir(), 'kiln-azurite-'));
  const ca = ensureFakeCa();
  writeFileSync(join(folder, 'cert.pem'), ca.certPem);
  writeFileSync(join(folder, 'key.pem'), ca.keyPem, { mode: 0o600 });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      main,
      ...['--tableHost', '127.0.0.1', '--tablePort', String(port)],
      ...['--location', folder],
      ...['--cert', join(folder, 'cert.pem'), '--key', join(folder, 'key.pem'), '--oauth', 'basic'],
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    await started(child, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint: `https://127.0.0.1:${port}/${AZURITE_ACCOUNT}`, pid: child.pid!, stop };
}

/** A port nobody listens on now (Azurite is told which one: it does not report one it picked). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when Azurite says it listens; rejects with its output if it exits or takes too long. */
function started(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let listening = false;
    const timer = setTimeout(
      () => fail(new Error(`Azurite did not start within ${timeoutMs / 1000} s:\n${output}`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    // Read on after the start too (and drop it): a full pipe would stall Azurite.
    const read = (chunk: Buffer) => {
      if (listening) return;
      output += chunk.toString();
      if (/successfully started/i.test(output)) {
        listening = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => fail(new Error(`Azurite exited (${code}) before it started:\n${output}`)));
  });
}
