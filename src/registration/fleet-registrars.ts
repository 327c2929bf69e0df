/**
 * What the registration broker does with each fleet's service once the shared checks passed
 * (broker.ts): whether the instance's name is registered already, and what the VM gets to register
 * with. GitHub: a just-in-time runner config made with kiln's credential. Azure DevOps, which has no
 * JIT registration: kiln's own credential for it (agentRegistrationSecret), for `config.cmd`.
 */
import type { FullAdoClient, FullGitHubClient } from '../clients/types.js';
import type { Settings } from '../config/load-settings.js';
import type { Fleet } from '../domain/hygiene.js';

export interface FleetRegistrar {
  /** The refusal when a registration of this name is in use. */
  alreadyRegistered(name: string): string;
  /** What the broker hands out, in refusals and logs. */
  handsOut: string;
  /**
   * The registrations with this name: whether one is in use, and the stale ones issue() replaces.
   * A failed read throws (and counts as in use).
   */
  lookup(name: string): Promise<{ inUse: boolean; stale: number[] }>;
  /** The 200 body for the VM and what the log may say about it; 'exists' when the service says the name is taken. */
  issue(name: string, stale: number[]): Promise<{ body: Record<string, unknown>; log: string } | 'exists'>;
  /** A call to the service that threw: the status the VM hears, and when it may try again. */
  failure(message: string): { status: number; reason: string; retryAfterSeconds: number };
}

/** What kiln asks a VM to wait when GitHub rate-limited kiln itself. */
const GITHUB_LIMITED_RETRY_SECONDS = 60;
/** What kiln asks a VM to wait when a service failed otherwise. */
const FAILED_RETRY_SECONDS = 30;

export function githubRegistrar(
  github: FullGitHubClient,
  registration: NonNullable<Settings['registration']>,
): FleetRegistrar {
  return {
    alreadyRegistered: (name) => `a runner named ${name} is already registered: one runner per instance`,
    handsOut: 'runner config',
    // An offline runner of the name is what an instance reimaged or upgraded outside kiln leaves
    // behind (kiln's own flows remove it first); generate-jitconfig refuses a taken name, so issue()
    // removes it. One that is online or busy is in use: a job on it is what must not get a config.
    async lookup(name) {
      const runners = await github.findRunnersByName(name);
      return {
        inUse: runners.some((runner) => runner.status === 'online' || runner.busy),
        stale: runners.map((runner) => runner.id),
      };
    },
    async issue(name, stale) {
      // GitHub refuses to delete a runner with a job (422 → busy): one that took a job since the
      // lookup is in use after all.
      let removed = 0;
      for (const id of stale) {
        const outcome = await github.deleteRunner(id);
        if (outcome === 'busy') return 'exists';
        if (outcome === 'deleted') removed++;
      }
      const created = await github.generateJitConfig({
        name,
        runnerGroupId: registration.runnerGroupId,
        labels: registration.labels,
      });
      if (created === 'exists') return 'exists';
      // The log says every runner kiln deleted, this one's offline predecessor too.
      const replaced = removed > 0 ? `, replacing ${removed} offline runner(s) of that name` : '';
      return {
        body: { name, encoded_jit_config: created.encodedJitConfig },
        log: `registered runner ${name} (id ${created.runnerId})${replaced}`,
      };
    },
    failure: (message) =>
      /rate limit/i.test(message)
        ? {
            status: 429,
            reason: 'GitHub is rate limiting kiln; try again later',
            retryAfterSeconds: GITHUB_LIMITED_RETRY_SECONDS,
          }
        : {
            status: 502,
            reason: `GitHub could not be asked: ${message}`,
            retryAfterSeconds: FAILED_RETRY_SECONDS,
          },
  };
}

/**
 * The agent registers itself with the secret (`config.cmd --auth pat`), so kiln cannot make it
 * single-use as a JIT config is: the broker's checks (no agent of that name in use, once per
 * provisioning, within the boot deadline) are what keep it from a job.
 */
export function adoRegistrar(ado: FullAdoClient, settings: NonNullable<Settings['ado']>): FleetRegistrar {
  return {
    alreadyRegistered: (name) => `an agent named ${name} is online or running a job: one agent per instance`,
    handsOut: 'registration secret',
    // An offline agent of the name is what a reimage or an upgrade leaves behind (Azure DevOps keeps
    // the registration); the new VM's `config.cmd --replace` takes it over. One that is online or
    // has a job is in use: a job on it is what must not get the secret.
    async lookup(name) {
      const agents = await ado.findAgentsByName(name);
      return { inUse: agents.some((agent) => agent.status === 'online' || agent.busy), stale: [] };
    },
    async issue(name) {
      const token = await ado.agentRegistrationSecret();
      const which =
        settings.auth === 'pat'
          ? `the PAT in ${settings.patSecret}`
          : "an Entra token of kiln's identity, ADO_AUTH=entra";
      return { body: { name, token }, log: `gave ${name} the Azure DevOps registration secret (${which})` };
    },
    // The client retried 429 and 5xx already: what is left is a failure for now.
    failure: (message) => ({
      status: 503,
      reason: `kiln could not prepare an Azure DevOps registration: ${message}`,
      retryAfterSeconds: FAILED_RETRY_SECONDS,
    }),
  };
}

/** The registrar of each fleet kiln has settings for. */
export function fleetRegistrars(deps: {
  settings: Settings;
  github?: FullGitHubClient;
  ado?: FullAdoClient;
}): Partial<Record<Fleet, FleetRegistrar>> {
  const { registration, ado: adoSettings } = deps.settings;
  if (!registration) return {};
  return {
    ...(deps.github ? { github: githubRegistrar(deps.github, registration) } : {}),
    ...(deps.ado && adoSettings ? { ado: adoRegistrar(deps.ado, adoSettings) } : {}),
  };
}
