/**
 * The registration broker (issue 16): a runner or agent VM proves who it is with its managed
 * identity's token and gets what it registers with, for itself only, so no VM identity needs to read
 * a credential a job on it could steal: a GitHub runner gets one just-in-time runner config; an Azure
 * DevOps agent (ADO has no JIT registration) gets kiln's registration secret, only while no agent of
 * its name is online or running a job. The checks, in order, each with its own refusal, are the same
 * for both fleets:
 *
 * 400 a body that is not `{ "instance": "<computer name>", "attestedDocument": "<IMDS signature>" }`,
 *     or a document that is not IMDS's PKCS#7;
 * 401 no token, or one that does not verify (signature, issuer, tenant, audience, expiry);
 * 403 the identity is no managed scale set's (a plain VM, an unmanaged scale set), its scale set is
 *     of a fleet kiln has no settings for, the instance is not in its scale set(s), or it was
 *     provisioned longer ago than BOOT_DEADLINE_MINUTES, or the attested document does not verify
 *     or is another VM's (src/registration/attestation.ts);
 * 429 kiln paces its registrations (Retry-After), or GitHub itself asked kiln to wait;
 * 409 the instance already has a runner registered, or an agent online or running a job (a job on
 *     it cannot get a second one), or kiln already answered it since it was last provisioned;
 * 200 GitHub: `{ name, encoded_jit_config }`; Azure DevOps: `{ name, token }`.
 *
 * The instance's own scale set decides which: an identity several scale sets share (of both fleets)
 * gets, for a Windows instance, never a GitHub config, and for a Linux one never the ADO secret.
 * Neither the token nor what the VM is given ever reaches a log or another answer (S6).
 */
import { createListManagedScaleSetsActivity } from '../activities/inventory.js';
import type { ActivityDeps } from '../activities/deps.js';
import type { ManagedScaleSet } from '../activities/inventory.js';
import { ensureError } from '../clients/errors.js';
import type { Fleet } from '../domain/hygiene.js';
import { instanceIdOfComputerName, provisioningKey, scaleSetsOfIdentity } from '../domain/registration.js';
import type { ScaleSetInstance } from '../clients/types.js';
import { maskCredentials } from '../secret-patterns.js';
import { attestationRefusal } from './attestation.js';
import { expiringPromise } from './expiring-promise.js';
import { fleetRegistrars, type FleetRegistrar } from './fleet-registrars.js';
import { createPacer, type Pacer } from './pacer.js';
import { createTokenVerifier } from './token-verifier.js';

/**
 * Why the broker refused, for programs (the human reason is in `error`): what a VM's log, a
 * dashboard or the simulator's report counts.
 */
export type RefusalCode =
  | 'disabled'
  | 'no-token'
  | 'invalid-token'
  | 'unavailable'
  | 'not-managed'
  | 'fleet-not-served'
  | 'paced'
  | 'unknown-instance'
  | 'attestation'
  | 'registered'
  | 'already-issued'
  | 'window-closed'
  | 'service-rate-limited'
  | 'service-failed';

export interface BrokerAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** One line for the app's log: what was decided and why, never a secret. */
  log: string;
}

/**
 * How long the list of managed scale sets (which identity speaks for which scale set) is reused: a
 * fleet boots in bursts, and scale sets and their identities change rarely. An identity it does not
 * know makes the broker read it again, at most once a minute, so a new scale set waits no longer.
 */
const SCALE_SET_CACHE_MS = 3600_000;
const SCALE_SET_REREAD_MS = 60_000;
/** What kiln asks a VM to wait when ARM or the authority could not be read. */
const UNAVAILABLE_RETRY_SECONDS = 30;

/** Why a scale set of a fleet without settings gets nothing. */
const UNSERVED_FLEET: Record<Fleet, string> = {
  github: 'a GitHub runner fleet, and kiln has no GitHub settings (GITHUB_OWNER)',
  ado: 'an Azure DevOps agent fleet, and kiln has no Azure DevOps settings (ADO_ORG_URL)',
};

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
  const registrars = fleetRegistrars(deps);
  const issued = deps.issuedRegistrations;
  const managedScaleSets = expiringPromise(SCALE_SET_CACHE_MS, () =>
    createListManagedScaleSetsActivity(deps)().then((r) => {
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    }),
  );

  return async function register(request: {
    authorization: string | null;
    instance: string;
    attestedDocument: string;
  }): Promise<BrokerAnswer> {
    const refuse = (
      status: number,
      code: RefusalCode,
      reason: string,
      headers?: Record<string, string>,
    ): BrokerAnswer => ({
      status,
      body: { error: reason, reason: code },
      ...(headers ? { headers } : {}),
      log: `registration of ${request.instance} refused (${status} ${code}): ${reason}`,
    });
    const unavailable = (
      status: number,
      code: RefusalCode,
      reason: string,
      retryAfterSeconds = UNAVAILABLE_RETRY_SECONDS,
    ) => refuse(status, code, reason, { 'Retry-After': String(retryAfterSeconds) });
    const serviceFailed = (registrar: FleetRegistrar, thrown: unknown) => {
      const failure = registrar.failure(safe(thrown));
      const code = failure.status === 429 ? 'service-rate-limited' : 'service-failed';
      return unavailable(failure.status, code, failure.reason, failure.retryAfterSeconds);
    };
    if (!registration || !verifier || !pacer || !issued)
      return refuse(
        404,
        'disabled',
        'the registration broker is not enabled (KILN_REGISTRATION_AUDIENCE is empty)',
      );
    if (Object.keys(registrars).length === 0)
      return refuse(
        404,
        'disabled',
        'the registration broker has no fleet to register for (GITHUB_OWNER and ADO_ORG_URL are empty)',
      );

    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '')?.[1];
    if (!bearer)
      return refuse(
        401,
        'no-token',
        'an Authorization: Bearer header with a managed identity token is required',
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    const verified = await verifier.verify(bearer);
    if (!verified.ok) {
      if (verified.kind === 'unavailable') return unavailable(503, 'unavailable', verified.reason);
      return refuse(401, 'invalid-token', verified.reason, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }

    const nowMs = deps.now().getTime();
    let match: ReturnType<typeof scaleSetsOfIdentity<ManagedScaleSet>>;
    try {
      match = scaleSetsOfIdentity(verified.identity, await managedScaleSets(nowMs));
      const servesNone = !match.ok || !match.scaleSets.some((s) => registrars[s.fleet]);
      if (servesNone)
        match = scaleSetsOfIdentity(
          verified.identity,
          await managedScaleSets(nowMs, nowMs - SCALE_SET_REREAD_MS),
        );
    } catch (thrown) {
      return unavailable(503, 'unavailable', `the managed scale sets could not be read: ${safe(thrown)}`);
    }
    if (!match.ok) return refuse(403, 'not-managed', match.reason);
    const served = match.scaleSets.filter((s) => registrars[s.fleet]);
    if (served.length === 0)
      return refuse(
        403,
        'fleet-not-served',
        `the identity's scale set is ${UNSERVED_FLEET[match.scaleSets[0]!.fleet]}`,
      );

    // Paced from here on: every call past this point reads ARM and asks GitHub or Azure DevOps.
    const slot = pacer.take(nowMs);
    if (!slot.ok)
      return refuse(429, 'paced', 'kiln is pacing its registrations; try again later', {
        'Retry-After': String(slot.retryAfterSeconds),
      });

    let found:
      { set: ManagedScaleSet; instanceId: string; provisionedAt?: string; vmId?: string } | undefined;
    try {
      for (const set of served) {
        const inst = await findInstance(deps.arm, set, request.instance);
        if (inst) {
          found = { set, instanceId: inst.instanceId, provisionedAt: inst.provisionedAt, vmId: inst.vmId };
          break;
        }
      }
    } catch (thrown) {
      return unavailable(503, 'unavailable', `the scale set's instances could not be read: ${safe(thrown)}`);
    }
    if (!found)
      return refuse(
        403,
        'unknown-instance',
        `no instance named ${request.instance} in the identity's scale set`,
      );
    // The token names a scale set (or an identity several share), the body an instance: only the
    // attested document, which only that VM's own IMDS can sign, proves the caller is that instance.
    // The VM picks the document's nonce; a challenge from kiln would add nothing, since a replayed
    // document still names its own VM and is refused for any other (its expiry bounds the rest).
    const unattested = await attestationRefusal(request.attestedDocument, {
      name: request.instance,
      vmId: found.vmId,
    });
    if (unattested) return refuse(unattested.status, 'attestation', unattested.reason, unattested.headers);
    // The instance's own scale set decides the fleet, whatever else the identity speaks for.
    const registrar = registrars[found.set.fleet]!;
    const name = request.instance;
    const alreadyRegistered = () => refuse(409, 'registered', registrar.alreadyRegistered(name));
    let registrations: Awaited<ReturnType<FleetRegistrar['lookup']>>;
    try {
      registrations = await registrar.lookup(name);
      if (registrations.inUse) return alreadyRegistered();
    } catch (thrown) {
      return serviceFailed(registrar, thrown);
    }
    const provisioning = provisioningKey(found.set.id, found.instanceId, found.provisionedAt);

    // Only an instance that was provisioned within the boot deadline may register, the window in
    // which it registers itself (past it, cleanup reimages an instance that never registered, which
    // opens a new window): a document a job copied off an instance is of no use outside it.
    const deadlineMinutes = deps.settings.hygiene.bootDeadlineMinutes;
    if (found.provisionedAt && nowMs - Date.parse(found.provisionedAt) > deadlineMinutes * 60_000)
      return refuse(
        403,
        'window-closed',
        `${request.instance} was provisioned more than ${deadlineMinutes} minutes ago (BOOT_DEADLINE_MINUTES): its registration window is closed; reimage it to register again`,
      );

    // Claimed last, so no refusal leaves a record: the claim is the atomic "once per provisioning"
    // (of concurrent requests, on any app instance, exactly one gets past it).
    let claim: Awaited<ReturnType<typeof issued.claim>>;
    try {
      claim = await issued.claim(provisioning, new Date(nowMs).toISOString());
    } catch (thrown) {
      return unavailable(
        503,
        'unavailable',
        `kiln's record of issued registrations could not be read: ${safe(thrown)}`,
      );
    }
    if (claim === 'taken')
      return refuse(
        409,
        'already-issued',
        `kiln already gave ${name} a ${registrar.handsOut} since it was provisioned; reimage the instance to register again`,
      );
    let given: Awaited<ReturnType<FleetRegistrar['issue']>>;
    try {
      given = await registrar.issue(name, registrations.stale);
    } catch (thrown) {
      // Nothing was given: the VM's retry may claim again.
      const answer = serviceFailed(registrar, thrown);
      const released = await issued.release(provisioning).then(
        () => '',
        (failure: unknown) => `; the claim could not be released (${safe(failure)}): reimage the instance`,
      );
      return { ...answer, log: `${answer.log}${released}` };
    }
    // A registration of that name exists (made between the lookup and now): the claim stands, so
    // this provisioning cannot claim again once that registration's job is over.
    if (given === 'exists') return alreadyRegistered();
    return {
      status: 200,
      body: given.body,
      log: `${given.log} for ${found.set.name} instance ${found.instanceId}`,
    };
  };
}

/**
 * The scale set's instance with this computer name, read fresh (its provisioning time decides the
 * answer). Every computer name of a scale set begins with its prefix, so a name without it is not
 * there (an identity shared by several scale sets asks each); a Uniform scale set's computer name
 * carries the instance id, so one small read does; a name of another form falls back to listing
 * the instances (a whole page per 50 instances).
 */
async function findInstance(
  arm: ActivityDeps['arm'],
  set: ManagedScaleSet,
  computerName: string,
): Promise<ScaleSetInstance | undefined> {
  const named = (i: ScaleSetInstance) => i.computerName.toLowerCase() === computerName.toLowerCase();
  if (!computerName.toLowerCase().startsWith(set.computerNamePrefix.toLowerCase())) return undefined;
  const instanceId = instanceIdOfComputerName(set.computerNamePrefix, computerName);
  if (instanceId !== undefined) {
    const inst = await arm.getInstance(set.id, instanceId);
    if (!inst || named(inst)) return inst;
  }
  return (await arm.listInstances(set.id)).find(named);
}

function safe(thrown: unknown): string {
  return maskCredentials(ensureError(thrown).message);
}
