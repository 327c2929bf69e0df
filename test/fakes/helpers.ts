/**
 * Shared test helpers: scenarios built directly as Scenario objects (every field present, as the
 * parser would return them) and a fake cloud whose env is applied to process.env for the clients.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/local/clock.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import {
  startFakeCloud,
  type FakeCloud,
  type StartFakeCloudOptions,
} from '../../src/local/fake-cloud/index.js';
import { loadSettings, type Settings } from '../../src/config/load-settings.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Official API payloads the fakes answer in the shapes of (sources: reference/api-examples/SOURCES.md). */
export const examplesDir = path.resolve(repoRoot, 'reference', 'api-examples');

export function makeScenario(overrides: Partial<Scenario> = {}): Scenario {
  return {
    version: 1,
    name: 'test',
    seed: 1,
    start: '2026-12-01T02:55:00Z',
    until: '2026-12-03T02:55:00Z',
    timers: false,
    trigger: [],
    dryRun: false,
    gallery: {
      regions: ['westeurope', 'northeurope'],
      existingVersions: { linux: ['2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
    },
    images: {
      linux: { buildMinutes: 60, buildFails: false, unhealthy: false },
      windows: { buildMinutes: 120, buildFails: false, unhealthy: false },
    },
    scaleSets: [
      {
        name: 'vmss-gh-linux-weu',
        image: 'linux',
        region: 'westeurope',
        capacity: 3,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
      {
        name: 'vmss-ado-win-weu',
        image: 'windows',
        region: 'westeurope',
        capacity: 2,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
    ],
    jobs: [],
    ghosts: { github: 0, ado: 0 },
    foreign: { github: 0, ado: 0 },
    latency: { replication: 30, reimage: 6, register: 2, provision: 6 },
    // A fake cloud without the app has no broker to ask: its instances register with a PAT.
    registration: { github: 'pat', ado: 'pat' },
    faults: [],
    changes: [],
    settings: {},
    expect: { outcome: ['succeeded'] },
    ...overrides,
  };
}

export interface TestCloud {
  cloud: FakeCloud;
  clock: VirtualClock;
  settings: Settings;
  /** Advances the virtual clock by `minutes`, running everything that falls due. */
  advance(minutes: number): void;
  close(): Promise<void>;
}

const PROCESS_ENV_KEYS = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER'];

export async function startTestCloud(
  scenario: Scenario = makeScenario(),
  extra: Partial<StartFakeCloudOptions> = {},
): Promise<TestCloud> {
  const clock = new VirtualClock(scenario.start);
  const cloud = await startFakeCloud({ scenario, clock, ...extra });
  // The managed identity endpoint is found through the environment, as in Azure Functions.
  for (const k of PROCESS_ENV_KEYS) process.env[k] = cloud.env[k];
  const settings = loadSettings({ ...cloud.env });
  return {
    cloud,
    clock,
    settings,
    advance(minutes: number) {
      const target = clock.nowMs() + minutes * 60_000;
      for (;;) {
        clock.runDue();
        const next = clock.nextAt();
        if (next === undefined || next > target) break;
        clock.advanceTo(next);
      }
      clock.advanceTo(target);
      clock.runDue();
    },
    close: () => cloud.close(),
  };
}

/**
 * Lets kiln's identity read every secret of the fake vault, as Key Vault Secrets User on the vault
 * would: for tests about a client's handling of secrets (wrong, missing, PAT or App key in one
 * file), not about which secret the Bicep grants (test/roles and test/cli/simulate-roles do that).
 */
export function readEverySecret(t: TestCloud): void {
  t.cloud.access.grant({
    principalId: t.cloud.access.identity('orchestrator').principalId,
    roleDefinitionId: '4633458b-17de-408a-b874-0445c86b69e6',
    scope: t.cloud.world.keyVaultId(),
  });
}

/** A raw request to the fake ARM with a valid managed-identity token (for rejection tests). */
export async function armFetch(
  t: TestCloud,
  pathAndQuery: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  const { createCredential } = await import('../../src/clients/credential.js');
  let token = init.token;
  if (token === undefined)
    token = (await createCredential(t.settings).getToken(t.settings.arm.audience))!.token;
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(`${t.settings.arm.endpoint}${pathAndQuery}`, { ...init, headers });
}

export function vmssPath(t: TestCloud, name: string): string {
  return `/subscriptions/${t.settings.subscriptionId}/resourceGroups/rg-kiln-runners/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
}
