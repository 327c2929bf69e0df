/**
 * The registration broker's record of issued registrations against Azurite, the real Table storage
 * emulator (the `azurite` devDependency), with the same cases the fast suite runs against the fake
 * cloud's Table storage (test/broker/issued-registrations.cases.ts): what passes on the fake passes
 * on the emulator, so the fake answers as the emulator does — for the SDK (atomic inserts, ETags,
 * continuation, keys) and on the wire (status, x-ms-error-code, the error body).
 *
 * Azurite runs here on 127.0.0.1 over HTTPS with the fake cloud's CA (trusted through
 * NODE_EXTRA_CA_CERTS, as for the fakes), with its OAuth check on so bearer tokens are judged too,
 * in a temporary folder; it is stopped by the PID it was started with. The record authenticates
 * with Azurite's well-known development account key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe } from 'vitest';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { createIssuedRegistrationsTable } from '../../src/registration/issued-registrations.js';
import { issuedRegistrationCases, type TableTarget } from '../broker/issued-registrations.cases.js';

/** Azurite's development account: a documented, public key (https://learn.microsoft.com/azure/storage/common/storage-use-azurite). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const TABLE = 'kilnregistrations';

let azurite: ChildProcess | undefined;
let folder: string | undefined;
let target: TableTarget;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'kiln-azurite-'));
  const ca = ensureFakeCa();
  writeFileSync(join(folder, 'cert.pem'), ca.certPem);
  writeFileSync(join(folder, 'key.pem'), ca.keyPem, { mode: 0o600 });
  const port = await freePort();
  const main = join(
    dirname(createRequire(import.meta.url).resolve('azurite/package.json')),
    'dist/src/table/main.js',
  );
  azurite = spawn(
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
  await started(azurite);

  const endpoint = `https://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  const credential = new AzureNamedKeyCredential(DEV_ACCOUNT, DEV_KEY);
  target = {
    open: () => createIssuedRegistrationsTable({ endpoint, tableName: TABLE, credential, retryBaseMs: 10 }),
    inspect: () => new TableClient(endpoint, TABLE, credential),
    endpoint: () => endpoint,
    // Azurite's basic OAuth judges a token's audience, issuer and lifetime, not its signature.
    token: async () => unsignedStorageToken(),
  };
}, 60_000);

afterAll(async () => {
  if (azurite?.pid !== undefined && azurite.exitCode === null) {
    const exited = new Promise((resolve) => azurite!.once('exit', resolve));
    process.kill(azurite.pid, 'SIGTERM');
    await exited;
  }
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the record on Azurite (the real Table storage emulator)', () => {
  issuedRegistrationCases(() => target);
});

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

/** Resolves when Azurite says it listens; rejects with its output if it exits or takes 30 s. */
function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within 30 s:\n${output}`)), 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (/successfully started/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => fail(new Error(`Azurite exited (${code}) before it started:\n${output}`)));
  });
}

function unsignedStorageToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/00000000-0000-4000-8000-0000000ten7/',
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
  };
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.${Buffer.from('unsigned').toString('base64url')}`;
}
