/**
 * The run history (src/history/run-history.ts) against Azurite, the real Table storage emulator
 * (the `azurite` devDependency), with the same cases the fast suite runs against the fake cloud's
 * Table storage (test/history/run-history.cases.ts): what passes on the fake passes on the emulator,
 * so the fake answers as the emulator does — for the SDK (inserts, merges, range queries, pages) and
 * on the wire (status, x-ms-error-code, continuation headers, property limits).
 *
 * Azurite runs on 127.0.0.1 over HTTPS with its OAuth check on (src/local/azurite.ts), and is
 * stopped by the PID it was started with. The history authenticates with Azurite's well-known
 * development account key.
 */
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe } from 'vitest';
import { createRunHistoryTable } from '../../src/history/run-history.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from '../../src/local/azurite.js';
import { runHistoryCases, type HistoryTarget } from '../history/run-history.cases.js';
import { unsignedStorageToken } from './azurite-token.js';

let azurite: Azurite | undefined;
let target: HistoryTarget;

beforeAll(async () => {
  azurite = await startAzurite();
  const { endpoint } = azurite;
  const credential = new AzureNamedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  target = {
    open: (tableName) => createRunHistoryTable({ endpoint, tableName, credential, retryBaseMs: 10 }),
    inspect: (tableName) => new TableClient(endpoint, tableName, credential),
    endpoint: () => endpoint,
    token: async () => unsignedStorageToken(),
  };
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

describe('the run history on Azurite (the real Table storage emulator)', () => {
  runHistoryCases(() => target);
});
