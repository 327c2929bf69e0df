/**
 * The lease the autoscaler and rollouts share per scale set (src/leases/scale-set-leases.ts), with the
 * real @azure/data-tables client and kiln's managed identity, against the fake cloud's Table storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createScaleSetLeasesTable, type ScaleSetLeases } from '../../src/leases/scale-set-leases.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
let leases: ScaleSetLeases;
const T0 = '2026-12-02T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  const table = t.settings.leases!;
  leases = createScaleSetLeasesTable({
    endpoint: table.endpoint,
    tableName: table.name,
    credential: createCredential(t.settings),
    retryBaseMs: 10,
  });
});
afterAll(async () => t?.close());

describe('scale set leases', () => {
  it('gives a free lease, refuses it to another owner while it holds, and renews it for its own', async () => {
    const a = { owner: 'rollout-a:vmss-1', purpose: 'rollout' as const, expiresAt: at(60) };
    expect(await leases.acquire('vmss-1', a, T0)).toEqual({ acquired: true });
    const b = { owner: 'kiln-autoscale', purpose: 'autoscale' as const, expiresAt: at(10) };
    expect(await leases.acquire('vmss-1', b, at(1))).toEqual({ acquired: false, heldBy: a });
    // Names are matched without case, as Azure names scale sets.
    expect(await leases.acquire('VMSS-1', b, at(1))).toEqual({ acquired: false, heldBy: a });
    const renewed = { ...a, expiresAt: at(120) };
    expect(await leases.acquire('vmss-1', renewed, at(2))).toEqual({ acquired: true });
    expect(await leases.holder('vmss-1', at(3))).toEqual(renewed);
  });

  it('lets another owner take a lease once it expired (a holder that died does not lock for ever)', async () => {
    const a = { owner: 'kiln-autoscale', purpose: 'autoscale' as const, expiresAt: at(10) };
    expect(await leases.acquire('vmss-2', a, T0)).toEqual({ acquired: true });
    expect(await leases.holder('vmss-2', at(10))).toBeUndefined();
    const b = { owner: 'rollout-b:vmss-2', purpose: 'rollback' as const, expiresAt: at(90) };
    expect(await leases.acquire('vmss-2', b, at(11))).toEqual({ acquired: true });
  });

  it('gives a lease back only for its owner', async () => {
    const a = { owner: 'rollout-c:vmss-3', purpose: 'rollout' as const, expiresAt: at(60) };
    await leases.acquire('vmss-3', a, T0);
    await leases.release('vmss-3', 'kiln-autoscale');
    expect(await leases.holder('vmss-3', at(1))).toEqual(a);
    await leases.release('vmss-3', a.owner);
    expect(await leases.holder('vmss-3', at(1))).toBeUndefined();
    // Releasing again, or a lease nobody holds, is nothing.
    await leases.release('vmss-3', a.owner);
    await leases.release('vmss-never', a.owner);
  });

  it('gives one of many concurrent takers the lease', async () => {
    const takers = Array.from({ length: 8 }, (_, k) => ({
      owner: `taker-${k}`,
      purpose: 'autoscale' as const,
      expiresAt: at(10),
    }));
    const outcomes = await Promise.all(takers.map((h) => leases.acquire('vmss-4', h, T0)));
    expect(outcomes.filter((o) => o.acquired)).toHaveLength(1);
  });
});
