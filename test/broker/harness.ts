/**
 * Drives POST /api/registrations as a VM does, over one simulation: the VM's token and attested
 * document from the fake IMDS, the request through the local host. Every token and secret seen is
 * kept, and every attested document sent, so a test can check none reached the log.
 */
import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import { REGISTRATION_AUDIENCE } from '../../src/local/fake-cloud/index.js';
import type { WorldInstance } from '../../src/local/fake-cloud/world.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import {
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
} from '../../src/local/simulate/run-simulation.js';

export function brokerHarness() {
  const h = {
    sim: undefined as unknown as SimulationResult,
    logs: [] as string[],
    /** Every token and secret seen (asked for, sent or given). */
    secrets: [] as string[],
    /** Every attested document sent: not secret, but never logged whole. */
    documents: [] as string[],
    world: () => h.sim.cloud.world,
    instances: (set: string) => [...h.world().findScaleSet(set)!.instances.values()],

    async start(scenario: Scenario, options: Pick<SimulationOptions, 'settings' | 'secrets'> = {}) {
      h.sim = await runSimulation(scenario, {
        triggers: [],
        keepRunning: true,
        ...options,
        log: (line) => h.logs.push(line),
      });
    },

    /** What a VM's bootstrap does: ask its IMDS for a token for kiln's audience. */
    async imdsToken(vmName: string, audience = REGISTRATION_AUDIENCE): Promise<string> {
      const url = `${h.sim.cloud.imdsTokenUrl(vmName)}?api-version=2018-02-01&resource=${encodeURIComponent(audience)}`;
      const response = await fetch(url, { headers: { Metadata: 'true' } });
      expect(response.status).toBe(200);
      const token = ((await response.json()) as { access_token: string }).access_token;
      h.secrets.push(token);
      return token;
    },

    /** What a VM's bootstrap asks its IMDS next: its attested document, for a fresh 10-digit nonce. */
    async attested(vmName: string): Promise<string> {
      const nonce = String(randomInt(1e9, 1e10));
      const url = `${h.sim.cloud.imdsAttestedUrl(vmName)}?api-version=2018-10-01&nonce=${nonce}`;
      const response = await fetch(url, { headers: { Metadata: 'true' } });
      expect(response.status).toBe(200);
      const document = ((await response.json()) as { signature: string }).signature;
      h.documents.push(document);
      return document;
    },

    /**
     * POST as a VM does. The attested document is, unless given, that of the VM the instance names
     * (a VM asking for itself); `null` sends none.
     */
    async register(token: string | undefined, instance: string, attestedDocument?: string | null) {
      if (token) h.secrets.push(token);
      // Computer names are case-insensitive (the broker matches them so).
      const own = [...h.world().scaleSets.values()]
        .flatMap((set) => [...set.instances.values()])
        .find((i) => i.computerName.toLowerCase() === instance.toLowerCase());
      const document =
        attestedDocument === undefined
          ? own && (await h.attested(own.name))
          : (attestedDocument ?? undefined);
      const response = await h.sim.host.invokeHttp({
        method: 'POST',
        path: '/api/registrations',
        body: JSON.stringify({ instance, attestedDocument: document }),
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
      const json = JSON.parse(response.body || '{}') as Record<string, string>;
      for (const given of [json.token, json.encoded_jit_config]) if (given) h.secrets.push(given);
      return { ...response, json };
    },

    /** A VM provisioned just now (on the new image) that has not registered yet. */
    /** The instance was provisioned just now; its registration is gone unless `keepRegistration` (a reimage outside kiln). */
    freshBoot(inst: WorldInstance, options: { keepRegistration?: boolean } = {}) {
      const world = h.world();
      if (!options.keepRegistration) {
        const runner = world.findRunnerByName(inst.computerName);
        if (runner) world.runners.delete(runner.id);
        const agent = world.findAgentByName(inst.computerName);
        if (agent) world.agents.delete(agent.id);
      }
      inst.provisionedAt = world.clock.nowMs();
    },
  };
  return h;
}
