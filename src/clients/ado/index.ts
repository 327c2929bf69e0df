/**
 * kiln's Azure DevOps client over plain fetch: `{orgUrl}/_apis/distributedtask/...?api-version=7.1`.
 * Auth by PAT from Key Vault (Basic base64(":" + PAT)) or by an Entra token for the Azure DevOps
 * resource through the managed identity. 429 and 5xx are retried with Retry-After within a deadline
 * per request, every attempt has a timeout, and the pool id is looked up once per client.
 *
 * A 404 means "gone" only where one thing was asked for (an agent to read, delete or change). On a
 * list (the pool lookup, the agents or job requests of the pool) it means the pool or the
 * organisation URL is wrong, and a failed list must never read as an empty pool: kiln would take busy
 * agents for absent ones, or waiting jobs for none.
 */
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../../config/load-settings.js';
import { ADO_RETRY, CLIENT_TUNING } from '../../retry-policy.js';
import { describeFailure, isTransientStatus, scrub, toClientError } from '../client-error.js';
import { PermanentError, TransientError } from '../errors.js';
import type { AdoAgent, AdoJobRequest, ApiObserver, FullAdoClient, SecretReader } from '../types.js';

const ADO_RESOURCE_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default';
const API_VERSION = '7.1';

/*
 * Time bounds of one request (one client call; the pool lookup, once per client, is a request of
 * its own). Attempts and waits stop at the deadline: no attempt or backoff starts that would end
 * past it, and an attempt's timeout is cut to what is left; the credential read (a cached Key Vault
 * secret or Entra token) is within it. A Retry-After longer than maxRetryAfterSeconds, or than what
 * is left, fails the request as transient at once: the orchestrator waits on a durable timer instead
 * of an activity sleeping. The numbers and the worst cases are in src/retry-policy.ts.
 */
export interface AdoClientOptions {
  /** Per-attempt timeout (CLIENT_ATTEMPT_TIMEOUT_MS in the app). */
  timeoutMs?: number;
  /** Attempts per request, the first included (ADO_MAX_RETRIES + 1 in the app). */
  maxAttempts?: number;
  /** Longest Retry-After honoured before giving up as transient (default ADO_RETRY.maxRetryAfterSeconds). */
  maxRetryAfterSeconds?: number;
  /** First backoff when no Retry-After came, doubling (CLIENT_RETRY_BASE_MS in the app). */
  backoffMs?: number;
  /** All of one request, retries included (CLIENT_REQUEST_TIMEOUT_MS in the app). */
  deadlineMs?: number;
  /** Sees every attempt, retries included (kiln's metrics). */
  observer?: ApiObserver;
}

interface TaskAgentJson {
  id: number;
  name: string;
  status?: string;
  enabled?: boolean;
  statusChangedOn?: string;
  assignedRequest?: { finishTime?: string } | null;
  lastCompletedRequest?: { finishTime?: string } | null;
}

/** TaskAgentJobRequest as `GET …/pools/{poolId}/jobrequests` answers it (only what kiln reads). */
interface TaskAgentJobRequestJson {
  requestId?: unknown;
  queueTime?: unknown;
  assignTime?: string | null;
  finishTime?: string | null;
  result?: string | null;
  reservedAgent?: { id?: number; name?: string } | null;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

export function createAdoClient(
  ado: NonNullable<Settings['ado']>,
  secrets: SecretReader,
  credential: TokenCredential,
  options: AdoClientOptions = {},
): FullAdoClient {
  const timeoutMs = options.timeoutMs ?? CLIENT_TUNING.clientAttemptTimeoutMs;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 1 + CLIENT_TUNING.clientMaxRetries.ado);
  const maxRetryAfter = options.maxRetryAfterSeconds ?? ADO_RETRY.maxRetryAfterSeconds;
  const backoffMs = options.backoffMs ?? CLIENT_TUNING.clientRetryBaseMs;
  const deadlineMs = options.deadlineMs ?? CLIENT_TUNING.clientRequestTimeoutMs;
  const base = `${ado.orgUrl.replace(/\/+$/, '')}/_apis/distributedtask`;
  let poolIdPromise: Promise<number> | undefined;

  /** One attempt, the observer told how it went. */
  async function send(url: URL, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (err) {
      options.observer?.failure('ado');
      throw err;
    }
    options.observer?.response('ado', res.status, res.headers);
    return res;
  }

  /** What kiln authenticates with: the PAT from Key Vault, or an Entra token of kiln's identity. */
  async function credentialSecret(): Promise<string> {
    if (ado.auth === 'pat') return secrets.getSecret(ado.patSecret);
    const token = await credential.getToken(ADO_RESOURCE_SCOPE, {
      abortSignal: AbortSignal.timeout(deadlineMs),
    });
    if (!token) throw new PermanentError('ado authenticate failed: no Entra token for Azure DevOps');
    return token.token;
  }

  async function authorization(): Promise<string> {
    const secret = await credentialSecret();
    return ado.auth === 'pat' ? `Basic ${Buffer.from(`:${secret}`).toString('base64')}` : `Bearer ${secret}`;
  }

  /**
   * One logical request with bounded retries; returns status and parsed JSON (undefined when empty).
   * A 404 is an answer (status 404) only with `notFound: 'answer'`, for requests about one agent;
   * anywhere else it is a PermanentError like any other 4xx.
   */
  async function request(
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
    { notFound = 'error' }: { notFound?: 'answer' | 'error' } = {},
  ): Promise<{ status: number; json: unknown }> {
    const started = Date.now();
    const left = () => deadlineMs - (Date.now() - started);
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    url.searchParams.set('api-version', API_VERSION);
    const auth = await authorization().catch((err: unknown) => {
      throw toClientError(`ado ${method} ${path}`, err);
    });
    let lastError: unknown = new TransientError(
      `ado ${method} ${path} failed: no time left of its ${deadlineMs / 1000} s deadline`,
    );
    for (let attempt = 1; attempt <= maxAttempts && left() > 0; attempt++) {
      let waitMs = backoffMs * 2 ** (attempt - 1);
      try {
        const res = await send(url, {
          method,
          headers: {
            authorization: auth,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.min(timeoutMs, left())),
        });
        const text = await res.text();
        // Azure DevOps answers a failed sign-in with 203 and an HTML page instead of 401.
        if (res.status === 203 || (res.status >= 300 && res.status < 400)) {
          throw new PermanentError(
            `ado ${method} ${path} failed (HTTP ${res.status}): authentication was not accepted`,
          );
        }
        if (res.ok || (res.status === 404 && notFound === 'answer')) {
          return { status: res.status, json: text ? safeJson(text) : undefined };
        }
        const message = errorMessage(text);
        lastError = new HttpStatusError(res.status, message);
        if (!isTransientStatus(res.status)) break;
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.headers.has('retry-after') && Number.isFinite(retryAfter) && retryAfter >= 0) {
          if (retryAfter > maxRetryAfter) break;
          waitMs = retryAfter * 1000;
        }
      } catch (err) {
        if (err instanceof PermanentError || err instanceof TransientError) throw err;
        lastError = err;
        if (!describeFailure(err).network) break;
      }
      // A backoff that would leave no time for the next attempt is not waited for.
      if (attempt < maxAttempts) {
        if (waitMs >= left()) break;
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
    throw toClientError(`ado ${method} ${path}`, lastError);
  }

  /** The `value` list of a list answer; an answer without one is a failed read, never an empty list. */
  function listOf<T>(method: string, path: string, json: unknown): T[] {
    const value = (json as { value?: unknown } | undefined)?.value;
    if (!Array.isArray(value))
      throw new PermanentError(`ado ${method} ${path} failed: the answer (HTTP 200) holds no list`);
    return value as T[];
  }

  async function poolId(): Promise<number> {
    poolIdPromise ??= (async () => {
      // A 404 here is not "no such pool" (that is an empty list): the organisation URL is wrong.
      const { json } = await request('GET', '/pools', { poolName: ado.pool });
      const pools = listOf<{ id: number; name: string }>('GET', '/pools', json);
      const pool = pools.find((p) => p.name.toLowerCase() === ado.pool.toLowerCase());
      if (!pool) throw new PermanentError(`ado pool lookup failed: no agent pool named "${ado.pool}"`);
      return pool.id;
    })().catch((err: unknown) => {
      poolIdPromise = undefined;
      throw err;
    });
    return poolIdPromise;
  }

  /**
   * A list of the pool (its agents, its job requests). A 404 (the pool is gone, e.g. deleted and
   * created again under a new id) fails the list and drops the cached pool id, so that the next call
   * looks the pool up again.
   */
  async function poolList<T>(
    resource: string,
    query: Record<string, string>,
  ): Promise<{ pool: number; items: T[] }> {
    const pool = await poolId();
    const path = `/pools/${pool}/${resource}`;
    const { status, json } = await request('GET', path, query, undefined, { notFound: 'answer' });
    if (status === 404) {
      poolIdPromise = undefined;
      const detail = (json as { message?: unknown } | undefined)?.message;
      throw new PermanentError(
        `ado GET ${path} failed (HTTP 404)${typeof detail === 'string' ? `: ${scrub(detail)}` : ''}`,
      );
    }
    return { pool, items: listOf<T>('GET', path, json) };
  }

  /** The pool's agents, with their assigned and last completed requests. */
  async function listPoolAgents(query: Record<string, string>): Promise<AdoAgent[]> {
    const { pool, items } = await poolList<TaskAgentJson>('agents', {
      ...query,
      includeAssignedRequest: 'true',
      includeLastCompletedRequest: 'true',
    });
    return items.map((a) => toAgent(a, pool));
  }

  const toAgent = (a: TaskAgentJson, pool: number): AdoAgent => {
    const out: AdoAgent = {
      id: a.id,
      name: a.name,
      status: a.status?.toLowerCase() === 'online' ? 'online' : 'offline',
      enabled: a.enabled !== false,
      busy: !!a.assignedRequest && !a.assignedRequest.finishTime,
      poolId: pool,
    };
    if (a.statusChangedOn) out.statusChangedOn = a.statusChangedOn;
    if (a.lastCompletedRequest?.finishTime) out.lastJobFinishedOn = a.lastCompletedRequest.finishTime;
    return out;
  };

  return {
    listAgents() {
      return listPoolAgents({});
    },

    // Agent names are case-insensitive in Azure DevOps, and a Windows agent registers under its
    // NetBIOS name (upper case) while ARM names the instance as the model wrote it.
    async findAgentsByName(name) {
      const wanted = name.toLowerCase();
      return (await listPoolAgents({ agentName: name })).filter((a) => a.name.toLowerCase() === wanted);
    },

    // One agent asked for: 404 is that agent gone.
    async getAgent(id) {
      const pool = await poolId();
      const { status, json } = await request(
        'GET',
        `/pools/${pool}/agents/${id}`,
        { includeAssignedRequest: 'true', includeLastCompletedRequest: 'true' },
        undefined,
        { notFound: 'answer' },
      );
      return status === 404 || !json ? undefined : toAgent(json as TaskAgentJson, pool);
    },

    // Undocumented in the REST reference, but the official clients' getAgentRequestsForAgents:
    // completedRequestCount=0 leaves out the finished ones (no $top: it changes the answer's shape).
    async listJobRequests() {
      const { pool, items } = await poolList<TaskAgentJobRequestJson>('jobrequests', {
        completedRequestCount: '0',
      });
      return items.map((r) => toJobRequest(r, `/pools/${pool}/jobrequests`));
    },

    async deleteAgent(id) {
      const pool = await poolId();
      const { status } = await request('DELETE', `/pools/${pool}/agents/${id}`, {}, undefined, {
        notFound: 'answer',
      });
      return status === 404 ? 'gone' : 'deleted';
    },

    async agentRegistrationSecret() {
      return credentialSecret().catch((err: unknown) => {
        throw toClientError('ado read the agent registration secret', err);
      });
    },

    async setAgentEnabled(id, enabled) {
      const pool = await poolId();
      const { status, json } = await request(
        'PATCH',
        `/pools/${pool}/agents/${id}`,
        {},
        { id, enabled },
        { notFound: 'answer' },
      );
      return status === 404 || !json ? undefined : toAgent(json as TaskAgentJson, pool);
    },
  };
}

/**
 * A request without its id or queue time is a failed read: skipping it would count a job as absent.
 */
function toJobRequest(r: TaskAgentJobRequestJson, path: string): AdoJobRequest {
  if (typeof r?.requestId !== 'number' || typeof r.queueTime !== 'string')
    throw new PermanentError(`ado GET ${path} failed: a job request without requestId or queueTime`);
  const out: AdoJobRequest = { requestId: r.requestId, queueTime: r.queueTime };
  if (r.assignTime) out.assignTime = r.assignTime;
  if (r.finishTime) out.finishTime = r.finishTime;
  if (r.result) out.result = r.result;
  if (r.reservedAgent && typeof r.reservedAgent.id === 'number' && typeof r.reservedAgent.name === 'string')
    out.reservedAgent = { id: r.reservedAgent.id, name: r.reservedAgent.name };
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorMessage(text: string): string {
  const j = safeJson(text) as { message?: string } | undefined;
  return scrub(j?.message ?? text.slice(0, 200));
}
