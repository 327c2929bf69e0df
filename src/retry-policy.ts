/**
 * kiln's retry policy: every layer that retries or bounds a wait, with all of its numbers, in one
 * place. The layers nest (a client request inside an activity, an activity inside an orchestration's
 * retries), so a failure deep down can cost the product of the layers above it; each layer therefore
 * has a deadline of its own, and the worst cases below follow from these numbers alone.
 *
 * | Layer | What it retries | Attempts | Delays between attempts | Bound |
 * |---|---|---|---|---|
 * | ARM SDK (`src/clients/arm`) | 408, 429, 5xx, dropped connections | 1 + 3 | 1 s, 2 s, 4 s (base × 2ⁿ, capped at 16 s, jitter shortens them), or Retry-After on 429/503 | 1 min a call, polls of an awaited operation included |
 * | GitHub, Octokit plugins (`src/clients/github`) | 5xx, dropped connections; a rate limit asking ≤ 20 s | 1 + 2, and 1 after a rate limit | 1 s, 4 s (base × n²), or the rate limit's wait | 30 s an attempt, 1 min a call |
 * | Azure DevOps (`src/clients/ado`) | 408, 429, 5xx, dropped connections | 1 + 2 | 1 s, 2 s (base × 2ⁿ), or Retry-After ≤ 20 s | 30 s an attempt, 1 min a call |
 * | Key Vault SDK (`src/clients/keyvault.ts`) | 408, 429, 5xx, dropped connections | 1 + 3 | the SDK's | 30 s a read |
 * | Table storage SDK (`src/clients/tables.ts`) | 408, 429, 5xx, dropped connections | 1 + 3 | the SDK's, from base | 30 s a claim or release, a run record or a page of runs |
 * | Blob storage SDK (`src/clients/blobs.ts`) | 500, 503, dropped connections | 1 + 3 | 0 s, 1 s, 3 s (base × (2ⁿ⁻¹ − 1), capped at 16 s) | 30 s a report read |
 * | activity over a list (`src/activities/budget.ts`) | nothing: it stops starting items | — | — | no new item after 4 min or 3 transient failures in a row |
 * | activity retry (`src/orchestrations/call-activity.ts`) | activities that failed transiently | 4 | durable timers of 30 s, 1 min, 2 min (× 2, capped at 10 min) | 4 × the activity + 3 min 30 s |
 * | model write (`src/orchestrations/rollout-start.ts`, `rollout-rollback.ts`) | a write refused on a changed ETag (412) | 3 | none: a fresh read first | 3 × (read, look-up, write) |
 * | replication (`src/orchestrations/rebuild.ts`) | a region that failed | 2 | none | 2 × the 24 h wait |
 *
 * base: CLIENT_RETRY_BASE_MS. The numbers are the defaults; the client ones an operator may tune
 * are settings (CLIENT_TUNING). The table is rendered from the numbers below by src/retry-table.ts,
 * which also sums up the worst case of each operation for the README's "Retries and timeouts"; a
 * test keeps this copy and the README's equal to what it renders.
 */

/** The client tuning an operator sets through settings (src/config/settings.ts); these are the defaults. */
export interface ClientTuning {
  /** First backoff of the ARM, GitHub and Azure DevOps clients' retries (CLIENT_RETRY_BASE_MS). */
  clientRetryBaseMs: number;
  /** One HTTP attempt of the GitHub and Azure DevOps clients (CLIENT_ATTEMPT_TIMEOUT_MS). */
  clientAttemptTimeoutMs: number;
  /** All of one client call, retries and waits included, for every client (CLIENT_REQUEST_TIMEOUT_MS). */
  clientRequestTimeoutMs: number;
  /** Retries after the first attempt (ARM_MAX_RETRIES, GITHUB_MAX_RETRIES, ADO_MAX_RETRIES). */
  clientMaxRetries: { arm: number; github: number; ado: number };
}

export const CLIENT_TUNING: ClientTuning = {
  clientRetryBaseMs: 1_000,
  clientAttemptTimeoutMs: 30_000,
  clientRequestTimeoutMs: 60_000,
  clientMaxRetries: { arm: 3, github: 2, ado: 2 },
};

/**
 * Longest request deadline an operator may set: an activity's worst case (its time budget plus the
 * requests of the item in flight) must stay below host.json's functionTimeout of 10 minutes.
 */
export const MAX_CLIENT_REQUEST_TIMEOUT_MS = 90_000;

/** The ARM SDKs' retry policy, beyond the tuning. */
export const ARM_RETRY = {
  /** Longest exponential backoff (a Retry-After is bounded only by the request deadline). */
  maxRetryDelayMs: 16_000,
};

/** The Octokit throttling plugin's retries, beyond the tuning. */
export const GITHUB_RETRY = {
  /** Retries after a rate limit, each only when GitHub asks for at most maxRateLimitWaitSeconds. */
  rateLimitRetries: 1,
  /**
   * A longer rate limit fails the call as transient at once: the orchestrator waits on a durable
   * timer instead of an activity sleeping (GitHub's secondary limit usually asks for 60 s).
   */
  maxRateLimitWaitSeconds: 20,
};

/** The Azure DevOps client's own retry loop, beyond the tuning. */
export const ADO_RETRY = {
  /** A longer Retry-After fails the request as transient at once (as for GitHub). */
  maxRetryAfterSeconds: 20,
};

/** Key Vault secret reads (the GitHub App key and the PATs), cached per worker. */
export const KEYVAULT_RETRY = {
  maxRetries: 3,
  /** All of one read, the SDK's retries included. */
  requestTimeoutMs: 30_000,
  cacheTtlMs: 5 * 60_000,
};

/**
 * kiln's own Table storage (src/clients/tables.ts): the registration broker's record of issued
 * registrations and the run history. Its SDK retries, backed off from CLIENT_RETRY_BASE_MS, all under
 * one deadline per operation of a store (a claim or release, inside the VM's registration request; a
 * run's record; a page of runs).
 */
export const TABLE_RETRY = {
  maxRetries: 3,
  /** All of one operation of a store, every request and retry included. */
  requestTimeoutMs: 30_000,
};

/**
 * The images' software reports in kiln's Blob storage (src/clients/blobs.ts): a report read, by an
 * activity comparing a new image with the promoted one or by GET /api/images/{image}/{version}/software.
 * The SDK retries 500, 503 and dropped connections, backed off from CLIENT_RETRY_BASE_MS (its first
 * retry at once, then base × (2ⁿ⁻¹ − 1)), all under one deadline per read.
 */
export const BLOB_RETRY = {
  maxRetries: 3,
  /** Longest backoff between two attempts. */
  maxRetryDelayMs: 16_000,
  /** All of one read, every request and retry included. */
  requestTimeoutMs: 30_000,
  /** A report is a few kilobytes: a blob larger than this is refused, not read into memory. */
  maxBlobBytes: 8 * 1024 * 1024,
};

/** When an activity that works through a list stops starting new items (src/activities/budget.ts). */
export const ACTIVITY_BUDGET = {
  /** Wall time after which an activity starts no new item. */
  timeMs: 4 * 60_000,
  /** Items in a row that failed transiently after which an activity starts no new item. */
  consecutiveTransientFailures: 3,
};

/**
 * Client calls one item of such an activity makes at the most (a read, then a delete; or a look-up,
 * then a reimage): an activity that makes more says what its own worst case is.
 */
export const CALLS_PER_LIST_ITEM = 2;

export interface RetryPolicy {
  attempts: number;
  firstDelaySeconds: number;
  backoff: number;
  maxDelaySeconds: number;
}

/** An orchestration's retries of an activity that failed transiently, on durable timers. */
export const ACTIVITY_RETRY: RetryPolicy = {
  attempts: 4,
  firstDelaySeconds: 30,
  backoff: 2,
  maxDelaySeconds: 600,
};

/** Fresh reads and conditional writes of a scale set model before giving up on a model others keep changing. */
export const MODEL_WRITE_ATTEMPTS = 3;

/** Replications of a new version in a rebuild: a failed region gets one more try. */
export const REPLICATION_ATTEMPTS = 2;

// ------------------------------------------------------------------ worst cases, from the numbers above

/** Delays (ms) an ARM SDK call may wait between its attempts, before jitter (which only shortens them). */
export function armBackoffsMs(t: ClientTuning = CLIENT_TUNING): number[] {
  return Array.from({ length: t.clientMaxRetries.arm }, (_, n) =>
    Math.min(t.clientRetryBaseMs * 2 ** n, ARM_RETRY.maxRetryDelayMs),
  );
}

/** Delays (ms) the Octokit retry plugin waits between attempts: base × n². */
export function githubBackoffsMs(t: ClientTuning = CLIENT_TUNING): number[] {
  return Array.from({ length: t.clientMaxRetries.github }, (_, n) => t.clientRetryBaseMs * (n + 1) ** 2);
}

/** Delays (ms) the Azure DevOps client waits between attempts without a Retry-After: base × 2ⁿ. */
export function adoBackoffsMs(t: ClientTuning = CLIENT_TUNING): number[] {
  return Array.from({ length: t.clientMaxRetries.ado }, (_, n) => t.clientRetryBaseMs * 2 ** n);
}

/**
 * Delays (ms) the Blob storage SDK waits before each retry: its exponential policy waits
 * (2ⁿ⁻¹ − 1) × base after the n-th attempt (so the first retry goes at once), capped.
 */
export function blobBackoffsMs(t: ClientTuning = CLIENT_TUNING): number[] {
  return Array.from({ length: BLOB_RETRY.maxRetries }, (_, n) =>
    Math.min((2 ** n - 1) * t.clientRetryBaseMs, BLOB_RETRY.maxRetryDelayMs),
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** One ARM call: its deadline covers every attempt, backoff, Retry-After wait and LRO poll. */
export function armCallWorstMs(t: ClientTuning = CLIENT_TUNING): number {
  return t.clientRequestTimeoutMs;
}

/** One GitHub call: every attempt timing out, every backoff and rate-limit wait, cut at the deadline. */
export function githubCallWorstMs(t: ClientTuning = CLIENT_TUNING): number {
  const attempts = 1 + t.clientMaxRetries.github + GITHUB_RETRY.rateLimitRetries;
  const waits =
    sum(githubBackoffsMs(t)) + GITHUB_RETRY.rateLimitRetries * GITHUB_RETRY.maxRateLimitWaitSeconds * 1000;
  return Math.min(t.clientRequestTimeoutMs, attempts * t.clientAttemptTimeoutMs + waits);
}

/** One Azure DevOps call: every attempt timing out and the longest wait before each retry, cut at the deadline. */
export function adoCallWorstMs(t: ClientTuning = CLIENT_TUNING): number {
  const waits = sum(adoBackoffsMs(t).map((ms) => Math.max(ms, ADO_RETRY.maxRetryAfterSeconds * 1000)));
  return Math.min(t.clientRequestTimeoutMs, (1 + t.clientMaxRetries.ado) * t.clientAttemptTimeoutMs + waits);
}

/** The slowest call of any client. */
export function clientCallWorstMs(t: ClientTuning = CLIENT_TUNING): number {
  return Math.max(armCallWorstMs(t), githubCallWorstMs(t), adoCallWorstMs(t));
}

/**
 * One attempt of an activity that works through a list: its time budget, then the item in flight;
 * an Azure DevOps item may first look its pool up again (one more call).
 */
export function listActivityWorstMs(t: ClientTuning = CLIENT_TUNING): number {
  return ACTIVITY_BUDGET.timeMs + (CALLS_PER_LIST_ITEM + 1) * clientCallWorstMs(t);
}

/** The durable timers (ms) an orchestration waits before each retry of an activity. */
export function activityRetryDelaysMs(policy: RetryPolicy = ACTIVITY_RETRY): number[] {
  return Array.from(
    { length: policy.attempts - 1 },
    (_, n) => Math.min(policy.firstDelaySeconds * policy.backoff ** n, policy.maxDelaySeconds) * 1000,
  );
}

/** An activity whose every attempt takes `attemptMs`, with all of its retries. */
export function activityWithRetriesWorstMs(attemptMs: number, policy: RetryPolicy = ACTIVITY_RETRY): number {
  return policy.attempts * attemptMs + sum(activityRetryDelaysMs(policy));
}
