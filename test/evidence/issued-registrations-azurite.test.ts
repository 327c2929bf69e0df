/**
 * The registration broker's record of issued registrations against Azurite, the real Table storage
 * emulator (the `azurite` devDependency), with the same cases the fast suite runs against the fake
 * cloud's Table storage (test/broker/issued-registrations.cases.ts): what passes on the fake passes
 * on the emulator, so the fake answers as the emulator does — for the SDK (atomic inserts, ETags,
 * continuation, keys) and on the wire (status, x-ms-error-code, the error body).
 *
 * Azurite runs on 127.0.0.1 over HTTPS with its OAuth check on (src/local/azurite.ts), and is
 * stopped by the PID it was started with. The record authenticates with Azurite's well-known
 * development account key.
 */
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from '../../src/local/azurite.js';
import { createIssuedRegistrationsTable } from '../../src/registration/issued-registrations.js';
import { issuedRegistrationCases, type TableTarget } from '../broker/issued-registrations.cases.js';
import { unsignedStorageToken } from './azurite-token.js';

const TABLE = 'kilnregistrations';

let azurite: Azurite | undefined;
let target: TableTarget;

beforeAll(async () => {
  azurite = await startAzurite();
  const { endpoint } = azurite;
  const credential = new AzureNamedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  target = {
    open: () => createIssuedRegistrationsTable({ endpoint, tableName: TABLE, credential, retryBaseMs: 10 }),
    inspect: () => new TableClient(endpoint, TABLE, credential),
    endpoint: () => endpoint,
    // Azurite's basic OAuth judges a token's audience, issuer and lifetime, not its signature.
    token: async () => unsignedStorageToken(),
  };
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

describe('the record on Azurite (the real Table storage emulator)', () => {
  issuedRegistrationCases(() => target);
});
