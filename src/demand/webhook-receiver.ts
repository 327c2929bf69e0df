/**
 * What POST /api/github/webhooks does with one delivery (issue 19), apart from the Functions
 * adapter (src/functions/github-webhooks.ts): verify it, read it, record it.
 *
 * The HMAC is the authentication: GitHub signs each delivery's raw body with the webhook's secret
 * (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`), kiln verifies it with @octokit/webhooks against
 * the secret it reads from Key Vault (GITHUB_WEBHOOK_SECRET_NAME), kept for a few minutes. A
 * signature that does not verify gets the secret read again once (it may have been rotated; at most
 * once a minute, so a flood of forgeries cannot flood Key Vault) before the delivery is refused: 401,
 * and nothing is recorded. Nothing here logs the secret or a signature.
 *
 * A verified delivery: `ping` → 200; an event other than `workflow_job` → 202, ignored; a
 * `workflow_job` whose body is not one → 400 naming the problem; else the job is recorded
 * (JobDemandStore.record: idempotent, forward only) → 202.
 */
import { Webhooks } from '@octokit/webhooks';
import { ensureError } from '../clients/errors.js';
import type { SecretReader } from '../clients/types.js';
import type { JobDemandStore } from './job-demand-table.js';
import { parseWorkflowJobEvent } from './parse-workflow-job.js';

export interface WebhookDelivery {
  /** The raw body, exactly as received (the signature is over its bytes). */
  body: string;
  /** Header lookup, any case (Headers.get). */
  header(name: string): string | null | undefined;
}

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
  /** One line for the log: delivery id, event, what was done. Never the secret or the signature. */
  log: string;
  /** warn: refused or failed. */
  level: 'info' | 'warn';
  /** A job became queued with this delivery: the autoscaler may look at once rather than at its next minute. */
  newlyQueued?: true;
}

export interface WebhookReceiverDeps {
  secrets: SecretReader;
  /** The Key Vault secret's name (GITHUB_WEBHOOK_SECRET_NAME). */
  secretName: string;
  /** Where jobs are recorded; undefined: kiln keeps no job demand (no KILN_TABLE_ENDPOINT). */
  store?: JobDemandStore;
  now: () => Date;
  /** How long a secret read is used (default 5 minutes). */
  secretTtlMs?: number;
}

/** GitHub caps a delivery at 25 MB; a workflow_job is a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;
const SECRET_TTL_MS = 5 * 60_000;
/** The least time between two reads forced by a signature that did not verify. */
const REREAD_INTERVAL_MS = 60_000;
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

export function createWebhookReceiver(deps: WebhookReceiverDeps) {
  const ttl = deps.secretTtlMs ?? SECRET_TTL_MS;
  let cached: { verifier: Webhooks; readAtMs: number } | undefined;
  let lastForcedReadMs = Number.NEGATIVE_INFINITY;

  async function readSecret(nowMs: number): Promise<Webhooks> {
    const secret = await deps.secrets.getSecret(deps.secretName);
    if (!secret) throw new Error(`Key Vault secret ${deps.secretName} is empty`);
    cached = { verifier: new Webhooks({ secret }), readAtMs: nowMs };
    return cached.verifier;
  }

  async function verifies(body: string, signature: string): Promise<boolean> {
    const nowMs = deps.now().getTime();
    const fresh = cached && nowMs - cached.readAtMs < ttl && nowMs >= cached.readAtMs;
    const first = fresh ? cached!.verifier : await readSecret(nowMs);
    if (await first.verify(body, signature)) return true;
    // Rotated since the read? Read again, once, and not more than once a minute.
    if (!fresh || nowMs - lastForcedReadMs < REREAD_INTERVAL_MS) return false;
    lastForcedReadMs = nowMs;
    return (await readSecret(nowMs)).verify(body, signature);
  }

  return async (delivery: WebhookDelivery): Promise<WebhookAnswer> => {
    const id = delivery.header('x-github-delivery')?.slice(0, 64) || '(no delivery id)';
    const event = delivery.header('x-github-event')?.slice(0, 64) ?? '';
    const refuse = (status: number, error: string, level: 'info' | 'warn' = 'warn'): WebhookAnswer => ({
      status,
      body: { error },
      log: `github webhook ${id} (${event || 'no event'}): ${status} ${error}`,
      level,
    });
    if (Buffer.byteLength(delivery.body, 'utf8') > MAX_BODY_BYTES)
      return refuse(413, `a delivery is at most ${MAX_BODY_BYTES} bytes`);
    const signature = delivery.header('x-hub-signature-256')?.trim() ?? '';
    if (!SIGNATURE.test(signature))
      return refuse(401, 'X-Hub-Signature-256 is missing or not sha256=<64 hex digits>');
    if (delivery.body === '') return refuse(401, 'the signature does not match the body');
    let verified: boolean;
    try {
      verified = await verifies(delivery.body, signature);
    } catch (err) {
      // The secret could not be read: the delivery is neither accepted nor refused for good.
      return refuse(
        503,
        `cannot read the webhook secret ${deps.secretName} from Key Vault: ${ensureError(err).message}`,
      );
    }
    if (!verified) return refuse(401, 'the signature does not match the body');

    if (event === '') return refuse(400, 'X-GitHub-Event is missing');
    if (event === 'ping')
      return { status: 200, body: { ok: true }, log: `github webhook ${id}: ping`, level: 'info' };
    if (event !== 'workflow_job')
      return {
        status: 202,
        body: { ignored: `kiln reads workflow_job events only, not ${event}` },
        log: `github webhook ${id} (${event}): ignored`,
        level: 'info',
      };
    let json: unknown;
    try {
      json = JSON.parse(delivery.body);
    } catch (err) {
      return refuse(400, `the body is not JSON: ${ensureError(err).message}`);
    }
    const parsed = parseWorkflowJobEvent(json);
    if (!parsed.ok) return refuse(400, `not a workflow_job delivery: ${parsed.problem}`);
    const { job } = parsed;
    const what = `workflow_job ${parsed.action} job ${job.id} of ${job.repository}`;
    if (!deps.store)
      return refuse(503, 'kiln keeps no job demand here (KILN_TABLE_ENDPOINT is empty): nothing recorded');
    try {
      const outcome = await deps.store.record(job, deps.now().toISOString());
      return {
        status: 202,
        body: { [outcome]: { job: job.id, repository: job.repository, status: job.status } },
        log: `github webhook ${id}: ${what}: ${outcome}`,
        level: 'info',
        ...(outcome === 'recorded' && job.status === 'queued' ? { newlyQueued: true as const } : {}),
      };
    } catch (err) {
      const error = ensureError(err);
      return refuse(error.name === 'TransientError' ? 503 : 500, `${what}: not recorded: ${error.message}`);
    }
  };
}
