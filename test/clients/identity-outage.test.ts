/**
 * A managed identity endpoint that fails for a moment (5xx, 429, a dropped connection) is a
 * transient failure of the call that needed the token: the orchestration retries it on its timers.
 * MSAL reports every failure of the endpoint alike, so a 4xx is transient too: a wrong client id
 * ends the run after the orchestration's few retries, with the same message.
 */
import { ManagedIdentityApplication } from '@azure/msal-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createArmClient } from '../../src/clients/arm/index.js';
import { createCredential } from '../../src/clients/credential.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
// Every case has a cloud of its own (its faults only) and starts with no cached token, so the token
// request meets the fault.
beforeEach(async () => {
  (ManagedIdentityApplication as unknown as { nodeStorage?: { clear(): void } }).nodeStorage?.clear();
  t = await startTestCloud(makeScenario());
});
afterEach(async () => t?.close());

const list = () =>
  createArmClient(t.settings, createCredential(t.settings), { retryBaseMs: 1 }).listScaleSetsByTag({
    name: 'kiln-managed',
    value: 'true',
  });

describe('an identity endpoint that fails', () => {
  it.each([503, 429, 0, 400])('with %s: the call fails as a TransientError', async (status) => {
    t.cloud.addFault({ service: 'identity', operation: 'getToken', status, times: 20 });
    const error = (await list().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.name, error.message).toBe('TransientError');
  });
});
