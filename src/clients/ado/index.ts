/**
 * kiln's Azure DevOps client over plain fetch: `{orgUrl}/_apis/distributedtask/...?api-version=7.1`.
 * Auth by PAT from Key Vault (Basic base64(":" + PAT)) or by an Entra token for the Azure DevOps
 * resource through the managed identity. 429 and 5xx are retried with Retry-After (bounded), every
 * request has a timeout, and the pool id is looked up once per client.
 */
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../../config/load-settings.js';
import { describeFailure, isTransientStatus, scrub, toClientError } from '../client-error.js';
import { PermanentError, TransientError } from '../errors.js';
import type { AdoAgent, FullAdoClient, SecretReader } from '../types.js';

export const ADO_RESOURCE_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default';
const API_VERSION = '7.1';

export interface AdoClientOptions {
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** Longest Retry-After honoured before giving up as transient (default 60 s). */
  maxRetryAfterSeconds?: number;
  /** First backoff when no Retry-After came (default 500 ms, doubling). */
  backoffMs?: number;
}

interface TaskAgentJson {
  id: number;
  name: string;
  status?: string;
  enabled?: boolean;
  statusChangedOn?: string;
  assignedRequest?: { finishTime?: string } | null;
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
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const maxRetryAfter = options.maxRetryAfterSeconds ?? 60;
  const backoffMs = options.backoffMs ?? 500;
  const base = `${ado.orgUrl.replace(/\/+$/, '')}/_apis/distributedtask`;
  let poolIdPromise: Promise<number> | undefined;

  async function authorization(): Promise<string> {
    if (ado.auth === 'pat') {
      const pat = await secrets.getSecret(ado.patSecret);
      return `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;
    }
    const token = await credential.getToken(ADO_RESOURCE_SCOPE);
    if (!token) throw new PermanentError('ado authenticate failed: no Entra token for Azure DevOps');
    return `Bearer ${token.token}`;
  }

  /** One logical request with bounded retries; returns status and parsed JSON (undefined when empty). */
  async function request(
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    url.searchParams.set('api-version', API_VERSION);
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let waitMs = backoffMs * 2 ** (attempt - 1);
      try {
        const res = await fetch(url, {
          method,
          headers: {
            authorization: await authorization(),
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        // Azure DevOps answers a failed sign-in with 203 and an HTML page instead of 401.
        if (res.status === 203 || (res.status >= 300 && res.status < 400)) {
          throw new PermanentError(
            `ado ${method} ${path} failed (HTTP ${res.status}): authentication was not accepted`,
          );
        }
        if (res.ok || res.status === 404) {
          return { status: res.status, json: text ? safeJson(text) : undefined };
        }
        const message = errorMessage(text);
        lastError = new HttpStatusError(res.status, message);
        if (!isTransientStatus(res.status)) break;
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter >= 0) {
          if (retryAfter > maxRetryAfter) break;
          waitMs = retryAfter * 1000;
        }
      } catch (err) {
        if (err instanceof PermanentError || err instanceof TransientError) throw err;
        lastError = err;
        if (!describeFailure(err).network) break;
      }
      if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, waitMs));
    }
    throw toClientError(`ado ${method} ${path}`, lastError);
  }

  async function poolId(): Promise<number> {
    poolIdPromise ??= (async () => {
      const { status, json } = await request('GET', '/pools', { poolName: ado.pool });
      const pools = (json as { value?: { id: number; name: string }[] } | undefined)?.value ?? [];
      const pool = pools.find((p) => p.name.toLowerCase() === ado.pool.toLowerCase());
      if (status === 404 || !pool)
        throw new PermanentError(`ado pool lookup failed: no agent pool named "${ado.pool}"`);
      return pool.id;
    })().catch((err: unknown) => {
      poolIdPromise = undefined;
      throw err;
    });
    return poolIdPromise;
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
    return out;
  };

  return {
    async listAgents() {
      const pool = await poolId();
      const { json } = await request('GET', `/pools/${pool}/agents`, { includeAssignedRequest: 'true' });
      return ((json as { value?: TaskAgentJson[] } | undefined)?.value ?? []).map((a) => toAgent(a, pool));
    },

    async findAgentsByName(name) {
      const pool = await poolId();
      const { json } = await request('GET', `/pools/${pool}/agents`, {
        agentName: name,
        includeAssignedRequest: 'true',
      });
      return ((json as { value?: TaskAgentJson[] } | undefined)?.value ?? [])
        .filter((a) => a.name === name)
        .map((a) => toAgent(a, pool));
    },

    async getAgent(id) {
      const pool = await poolId();
      const { status, json } = await request('GET', `/pools/${pool}/agents/${id}`, {
        includeAssignedRequest: 'true',
      });
      return status === 404 || !json ? undefined : toAgent(json as TaskAgentJson, pool);
    },

    async deleteAgent(id) {
      const pool = await poolId();
      const { status } = await request('DELETE', `/pools/${pool}/agents/${id}`);
      return status === 404 ? 'gone' : 'deleted';
    },

    async setAgentEnabled(id, enabled) {
      const pool = await poolId();
      const { status, json } = await request('PATCH', `/pools/${pool}/agents/${id}`, {}, { id, enabled });
      return status === 404 || !json ? undefined : toAgent(json as TaskAgentJson, pool);
    },
  };
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
