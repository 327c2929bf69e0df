/**
 * The registration broker (issue 16): a runner VM proves who it is with its managed identity's
 * token and gets one just-in-time runner config for itself, so no VM identity needs to read a
 * GitHub credential a job on it could steal. The checks, in order, each with its own refusal:
 *
 * 400 a body that is not `{ "instance": "<computer name>" }`;
 * 401 no token, or one that does not verify (signature, issuer, tenant, audience, expiry);
 * 403 the identity is no managed scale set's (a plain VM, an unmanaged scale set), its scale set
 *     is not a GitHub runner fleet, the instance is not in its scale set(s), or it was provisioned
 *     longer ago than BOOT_DEADLINE_MINUTES;
 * 429 kiln paces GitHub (Retry-After), or GitHub itself asked kiln to wait;
 * 409 the instance already has a runner registered (a job on it cannot get a second config), or
 *     kiln already gave it a config since it was last provisioned;
 * 200 `{ name, encoded_jit_config }`.
 *
 * Neither the token nor the config ever reaches a log or another answer (S6).
 */
import { createListManagedScaleSetsActivity } from '../activities/inventory.js';
import type { ActivityDeps } from '../activities/deps.js';
import type { ManagedScaleSet } from '../activities/inventory.js';
import { ensureError } from '../clients/errors.js';
import { scaleSetsOfIdentity } from '../domain/registration.js';
import { maskCredentials } from '../secret-patterns.js';
import { expiringPromise } from './expiring-promise.js';
import { createPacer, type Pacer } from './pacer.js';
import { createTokenVerifier } from './token-verifier.js';

export interface BrokerAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** One line for the app's log: what was decided and why, never a secret. */
  log: string;
}

/** How long the list of managed scale sets is reused between calls (a fleet boots in bursts). */
const SCALE_SET_CACHE_MS = 60_000;
/** How long kiln remembers it gave an instance's provisioning a config. */
const ISSUED_MEMORY_MS = 24 * 3600_000;
/** What kiln asks a VM to wait when GitHub rate-limited kiln itself. */
const GITHUB_LIMITED_RETRY_SECONDS = 60;

export function createRegistrationBroker(deps: ActivityDeps) {
  const registration = deps.settings.registration;
  const verifier = registration
    ? createTokenVerifier({
        authorityHost: registration.authorityHost,
        tenantId: registration.tenantId,
        audiences: registration.audiences,
      })
    : undefined;
  const pacer: Pacer | undefined = registration ? createPacer(registration.ratePerMinute) : undefined;
  const issued = new Map<string, number>();
  const managedScaleSets = expiringPromise(SCALE_SET_CACHE_MS, () =>
    createListManagedScaleSetsActivity(deps)().then((r) => {
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    }),
  );

  return async function register(request: {
    authorization: string | null;
    instance: string;
  }): Promise<BrokerAnswer> {
    const { github } = deps;
    const refuse = (status: number, reason: string, headers?: Record<string, string>): BrokerAnswer => ({
      status,
      body: { error: reason },
      ...(headers ? { headers } : {}),
      log: `registration of ${request.instance} refused (${status}): ${reason}`,
    });
    if (!registration || !verifier || !pacer || !github)
      return refuse(404, 'the registration broker is not enabled (KILN_REGISTRATION_AUDIENCE, GITHUB_OWNER)');

    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '')?.[1];
    if (!bearer)
      return refuse(401, 'an Authorization: Bearer header with a managed identity token is required', {
        'WWW-Authenticate': 'Bearer',
      });
    const verified = await verifier.verify(bearer);
    if (!verified.ok) {
      if (verified.kind === 'unavailable') return refuse(503, verified.reason, { 'Retry-After': '30' });
      return refuse(401, verified.reason, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }

    const nowMs = deps.now().getTime();
    let managed: ManagedScaleSet[];
    try {
      managed = await managedScaleSets(nowMs);
    } catch (thrown) {
      return refuse(503, `the managed scale sets could not be read: ${safe(thrown)}`, {
        'Retry-After': '30',
      });
    }
    const match = scaleSetsOfIdentity(verified.identity, managed);
    if (!match.ok) return refuse(403, match.reason);
    const runnerSets = match.scaleSets.filter((s) => s.fleet === 'github');
    if (runnerSets.length === 0)
      return refuse(403, "the identity's scale set is not a GitHub runner fleet kiln manages");

    // Paced from here on: every call past this point reads ARM and may write to GitHub.
    const slot = pacer.take(nowMs);
    if (!slot.ok)
      return refuse(429, 'kiln is pacing its GitHub registrations; try again later', {
        'Retry-After': String(slot.retryAfterSeconds),
      });

    let found: { set: ManagedScaleSet; instanceId: string; provisionedAt?: string } | undefined;
    try {
      for (const set of runnerSets) {
        const inst = (await deps.arm.listInstances(set.id)).find(
          (i) => i.computerName.toLowerCase() === request.instance.toLowerCase(),
        );
        if (inst) {
          found = { set, instanceId: inst.instanceId, provisionedAt: inst.provisionedAt };
          break;
        }
      }
    } catch (thrown) {
      return refuse(503, `the scale set's instances could not be read: ${safe(thrown)}`, {
        'Retry-After': '30',
      });
    }
    if (!found) return refuse(403, `no instance named ${request.instance} in the identity's scale set`);
    const name = request.instance;
    try {
      const existing = await github.findRunnersByName(name);
      if (existing.length > 0)
        return refuse(409, `a runner named ${name} is already registered: one runner per instance`);
    } catch (thrown) {
      return githubRefusal(thrown, refuse);
    }
    for (const [key, at] of issued) if (nowMs - at > ISSUED_MEMORY_MS) issued.delete(key);
    const provisioning = `${found.set.id}/${found.instanceId}@${found.provisionedAt ?? ''}`.toLowerCase();
    if (issued.has(provisioning))
      return refuse(
        409,
        `kiln already gave ${name} a runner config since it was provisioned; reimage the instance to register again`,
      );

    // The token names a scale set (or an identity several share), not one instance: a job on one
    // instance could ask in the name of another. Only an instance that was provisioned within the
    // boot deadline may register, the window in which it registers itself (past it, cleanup
    // reimages an instance that never registered, which opens a new window).
    const deadlineMinutes = deps.settings.hygiene.bootDeadlineMinutes;
    if (found.provisionedAt && nowMs - Date.parse(found.provisionedAt) > deadlineMinutes * 60_000)
      return refuse(
        403,
        `${request.instance} was provisioned more than ${deadlineMinutes} minutes ago (BOOT_DEADLINE_MINUTES): its registration window is closed; reimage it to register again`,
      );

    let created: Awaited<ReturnType<typeof github.generateJitConfig>>;
    try {
      created = await github.generateJitConfig({
        name,
        runnerGroupId: registration.runnerGroupId,
        labels: registration.labels,
      });
    } catch (thrown) {
      return githubRefusal(thrown, refuse);
    }
    if (created === 'exists')
      return refuse(409, `a runner named ${name} is already registered: one runner per instance`);
    issued.set(provisioning, nowMs);
    return {
      status: 200,
      body: { name, encoded_jit_config: created.encodedJitConfig },
      log: `registered runner ${name} (id ${created.runnerId}) for ${found.set.name} instance ${found.instanceId}`,
    };
  };
}

function safe(thrown: unknown): string {
  return maskCredentials(ensureError(thrown).message);
}

function githubRefusal(
  thrown: unknown,
  refuse: (status: number, reason: string, headers?: Record<string, string>) => BrokerAnswer,
): BrokerAnswer {
  const message = safe(thrown);
  if (/rate limit/i.test(message))
    return refuse(429, 'GitHub is rate limiting kiln; try again later', {
      'Retry-After': String(GITHUB_LIMITED_RETRY_SECONDS),
    });
  return refuse(502, `GitHub could not be asked: ${message}`, { 'Retry-After': '30' });
}
