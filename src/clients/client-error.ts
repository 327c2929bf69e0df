/**
 * Turns whatever an SDK or fetch threw into kiln's two error classes (errors.ts), after the client's
 * own retries: TransientError for 429, 5xx, timeouts and dropped connections; PermanentError for
 * other 4xx. The message names the operation and the status and never carries request headers,
 * tokens or secret values (service messages are cut short and scrubbed of anything token-like).
 */
import { parseAuthorizationError } from '../rbac/permissions.js';
import { maskCredentials } from '../secret-patterns.js';
import { PermanentError, TransientError } from './errors.js';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'REQUEST_SEND_ERROR',
]);

export function isTransientStatus(status: number | undefined): boolean {
  return status === 408 || status === 429 || (status !== undefined && status >= 500);
}

/** Status and a short service code/message from RestError, Octokit's RequestError or our own fetch errors. */
export function describeFailure(err: unknown): {
  status?: number;
  code?: string;
  detail?: string;
  network: boolean;
} {
  const e = err as {
    name?: string;
    status?: number | string;
    statusCode?: number;
    code?: string;
    message?: string;
    cause?: { code?: string; name?: string };
    details?: {
      error?: { code?: string; message?: string };
      /** Table storage (@azure/data-tables): the OData error body. */
      odataError?: { code?: string; message?: { value?: string } };
    };
    response?: { status?: number; data?: { message?: string } };
  };
  const statusRaw = e?.statusCode ?? e?.status ?? e?.response?.status;
  const status = statusRaw === undefined ? undefined : Number(statusRaw);
  const code =
    e?.details?.error?.code ??
    e?.details?.odataError?.code ??
    (typeof e?.code === 'string' ? e.code : undefined) ??
    e?.cause?.code;
  const network =
    status === undefined &&
    (NETWORK_CODES.has(String(e?.code)) ||
      NETWORK_CODES.has(String(e?.cause?.code)) ||
      e?.name === 'AbortError' ||
      e?.name === 'TimeoutError' ||
      e?.cause?.name === 'TimeoutError' ||
      /socket hang up|fetch failed|network|timed? ?out|aborted/i.test(String(e?.message ?? '')));
  const detail =
    e?.details?.error?.message ??
    e?.details?.odataError?.message?.value ??
    e?.response?.data?.message ??
    e?.message;
  return {
    status: Number.isNaN(status) ? undefined : status,
    code,
    detail: detail ? scrub(detail) : undefined,
    network,
  };
}

/**
 * What @azure/identity throws when no token could be had. MSAL reports every failure of the managed
 * identity endpoint alike (a 500, a 429 and a 400 all read "service_unavailable"), so a token that
 * could not be had counts as transient: the orchestration retries a few times on its timers, and a
 * misconfiguration still ends the run, a few minutes later, with the same message.
 */
const CREDENTIAL_ERRORS = new Set([
  'AggregateAuthenticationError',
  'CredentialUnavailableError',
  'AuthenticationError',
  'AuthenticationRequiredError',
]);

/** Wraps `err` for `operation` (e.g. "arm listInstances vmss-gh-linux-weu"). */
export function toClientError(operation: string, err: unknown): TransientError | PermanentError {
  if (err instanceof TransientError || err instanceof PermanentError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && CREDENTIAL_ERRORS.has(name))
    return new TransientError(
      `${operation} failed (no token: the managed identity could not issue one): ${scrub(String((err as Error).message ?? ''))}`,
    );
  const f = describeFailure(err);
  const what =
    f.status !== undefined
      ? `HTTP ${f.status}`
      : f.network
        ? `network error${f.code ? ` ${f.code}` : ''}`
        : 'error';
  const codePart = f.code && f.status !== undefined ? ` ${f.code}` : '';
  const refusal = f.status === 403 ? describeRefusal(err) : undefined;
  const detail = refusal ? `: ${refusal}` : f.detail ? `: ${f.detail}` : '';
  const message = `${operation} failed (${what}${codePart})${detail}`;
  if (f.status === undefined ? f.network : isTransientStatus(f.status)) return new TransientError(message);
  return new PermanentError(message);
}

/**
 * An Azure RBAC refusal said whole: which action on which scope (the service's message, cut short,
 * would lose the scope), so an operator knows what to grant where. Ids and action names hold no secret.
 */
function describeRefusal(err: unknown): string | undefined {
  const e = err as { message?: unknown; details?: { error?: { message?: unknown } } } | null;
  const raw = [e?.details?.error?.message, e?.message].find((m): m is string => typeof m === 'string');
  const parsed = raw ? parseAuthorizationError(raw) : undefined;
  if (!parsed) return undefined;
  const fix = 'grant the caller a role that allows it there (kiln doctor names one)';
  if (parsed.code === 'LinkedAuthorizationFailed' && parsed.linked?.length)
    return `allowed ${parsed.action} on ${parsed.scope}, but refused the linked ${parsed.linked
      .map((l) => `${l.action} on ${l.scope}`)
      .join(' and ')}; ${fix}`;
  return `refused ${parsed.action} on ${parsed.scope}; ${fix}`;
}

/** Removes anything that looks like a credential and keeps messages short. */
export function scrub(text: string): string {
  return maskCredentials(text)
    .replace(/(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***')
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}
