/**
 * kiln's GitHub client: @octokit/rest with the throttling plugin (429/403 rate limits, honouring
 * Retry-After and the rate-limit reset) and the retry plugin (5xx). Auth by GitHub App (private key
 * from Key Vault; installation id from settings or looked up for the org/repo) or by a PAT from Key
 * Vault. Base URL from settings (GitHub Enterprise Server). Tokens never reach logs or errors.
 *
 * A 404 means "gone" only for one runner (getRunner, deleteRunner); a list that fails throws, and a
 * list answer that is not a list of runners is a failed read, never an empty fleet.
 */
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Settings } from '../../config/load-settings.js';
import { CLIENT_TUNING, GITHUB_RETRY } from '../../retry-policy.js';
import { describeFailure, toClientError } from '../client-error.js';
import { TransientError } from '../errors.js';
import { toWorkflowJob } from '../../demand/parse-workflow-job.js';
import type { WorkflowJob } from '../../demand/types.js';
import type { ApiObserver, FullGitHubClient, GitHubRunner, RunnerRelease, SecretReader } from '../types.js';

/*
 * Time bounds of one request (one client call: a runner read or delete, a list with all its pages).
 * The plugins retry inside the call: 5xx and network errors `retries` times after n² × retryBaseMs,
 * a rate limit GITHUB_RETRY.rateLimitRetries time when GitHub asks for at most
 * maxRateLimitWaitSeconds; and writes queue for their spacing. All of that is cut at `deadlineMs`: the
 * call then fails as transient, and its signal aborts the request in flight and any later attempt or
 * page (the first call of a client also reads the App key and gets a token within it). A longer rate
 * limit (GitHub's secondary limit usually asks for 60 s, the primary one for up to an hour) fails the
 * call as transient at once: the orchestrator waits on a durable timer instead of an activity
 * sleeping. The numbers and the worst cases are in src/retry-policy.ts.
 */
const KilnOctokit = Octokit.plugin(retry, throttling);
type KilnOctokitInstance = InstanceType<typeof KilnOctokit>;

export interface GitHubClientOptions {
  /**
   * Minimum spacing between writes (default: the throttling plugin's 1 s, GitHub's advice against
   * secondary rate limits).
   */
  writeSpacingMs?: number;
  /** Longest wait kiln accepts for a rate limit before failing the call as transient (default GITHUB_RETRY.maxRateLimitWaitSeconds). */
  maxRateLimitWaitSeconds?: number;
  /** Per-attempt timeout (CLIENT_ATTEMPT_TIMEOUT_MS in the app). */
  timeoutMs?: number;
  /** Base of the retry plugin's backoff for 5xx and network errors: n² × base (CLIENT_RETRY_BASE_MS in the app). */
  retryBaseMs?: number;
  /** Retries of a 5xx or network error (GITHUB_MAX_RETRIES in the app). */
  retries?: number;
  /** All of one call, retries and waits included (CLIENT_REQUEST_TIMEOUT_MS in the app). */
  deadlineMs?: number;
  /** Where Octokit's warnings go (default: nowhere). Messages carry no tokens. */
  log?: { warn: (message: string) => void };
  /** Sees every attempt, retries and the App's token requests included (kiln's metrics). */
  observer?: ApiObserver;
}

type RunnerData = { id: number; name: string; status: string; busy: boolean; labels: { name: string }[] };

export function createGitHubClient(
  github: NonNullable<Settings['github']>,
  secrets: SecretReader,
  options: GitHubClientOptions = {},
): FullGitHubClient {
  const maxWait = options.maxRateLimitWaitSeconds ?? GITHUB_RETRY.maxRateLimitWaitSeconds;
  const timeoutMs = options.timeoutMs ?? CLIENT_TUNING.clientAttemptTimeoutMs;
  const deadlineMs = options.deadlineMs ?? CLIENT_TUNING.clientRequestTimeoutMs;
  const warn = options.log?.warn ?? (() => {});
  const isOrg = github.scope === 'org';
  const owner = github.owner;
  const repo = github.repo;

  const baseOptions = () => ({
    baseUrl: github.apiUrl,
    userAgent: 'kiln',
    // Octokit 22 has no timeout option: every attempt gets its own deadline through fetch.
    request: { fetch: fetchWithTimeout(timeoutMs, options.observer) },
    log: { debug: () => {}, info: () => {}, warn: (m: string) => warn(m), error: (m: string) => warn(m) },
    throttle: {
      onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
        warn(`github primary rate limit hit; retry after ${retryAfter}s (attempt ${retryCount + 1})`);
        return retryCount < GITHUB_RETRY.rateLimitRetries && retryAfter <= maxWait;
      },
      onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
        warn(`github secondary rate limit hit; retry after ${retryAfter}s (attempt ${retryCount + 1})`);
        return retryCount < GITHUB_RETRY.rateLimitRetries && retryAfter <= maxWait;
      },
      ...(options.writeSpacingMs !== undefined ? { write: spacedGate(options.writeSpacingMs) as never } : {}),
    },
    // 403/429 belong to the throttling plugin (Retry-After / reset); the retry plugin takes 5xx.
    retry: {
      // 409: a conflict (a JIT runner name taken) stays one however often it is asked.
      doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451],
      retries: options.retries ?? CLIENT_TUNING.clientMaxRetries.github,
      retryAfterBaseValue: options.retryBaseMs ?? CLIENT_TUNING.clientRetryBaseMs,
    },
  });

  let octokitPromise: Promise<KilnOctokitInstance> | undefined;
  function octokit(): Promise<KilnOctokitInstance> {
    octokitPromise ??= build().catch((err: unknown) => {
      octokitPromise = undefined;
      throw githubError('github authenticate', err);
    });
    return octokitPromise;
  }

  async function build(): Promise<KilnOctokitInstance> {
    if (github.auth === 'pat') {
      const pat = await secrets.getSecret(github.patSecret);
      return new KilnOctokit({ ...baseOptions(), auth: pat });
    }
    const privateKey = await secrets.getSecret(github.appKeySecret);
    let installationId = github.installationId ? Number(github.installationId) : undefined;
    if (!installationId) {
      const app = new KilnOctokit({
        ...baseOptions(),
        authStrategy: createAppAuth,
        auth: { appId: github.appId, privateKey },
      });
      const { data } = isOrg
        ? await app.rest.apps.getOrgInstallation({ org: owner })
        : await app.rest.apps.getRepoInstallation({ owner, repo });
      installationId = data.id;
    }
    return new KilnOctokit({
      ...baseOptions(),
      authStrategy: createAppAuth,
      auth: { appId: github.appId, privateKey, installationId },
    });
  }

  /**
   * One call within `deadlineMs`: `fn` gets the client and the `request` option to pass
   * to Octokit, whose signal aborts the call's request at the deadline (and any attempt a plugin
   * would still make); the call then fails as transient even if a plugin is still sleeping.
   */
  async function call<T>(
    operation: string,
    fn: (o: KilnOctokitInstance, request: { signal: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(deadlineMs);
    let onDeadline = () => {};
    const expired = new Promise<never>((_, reject) => {
      onDeadline = () =>
        reject(
          new TransientError(
            `github ${operation} failed: no answer within ${deadlineMs / 1000} s, retries included`,
          ),
        );
      deadline.addEventListener('abort', onDeadline, { once: true });
    });
    try {
      return await Promise.race([(async () => fn(await octokit(), { signal: deadline }))(), expired]);
    } catch (err) {
      throw githubError(`github ${operation}`, err);
    } finally {
      deadline.removeEventListener('abort', onDeadline);
    }
  }

  return {
    async listRunners() {
      return call('listRunners', async (o, { signal }) => {
        // paginate does not pass a `request` option on to its pages: it stops paging at the deadline.
        const runners = isOrg
          ? await o.paginate(
              o.rest.actions.listSelfHostedRunnersForOrg,
              { org: owner, per_page: 100 },
              (response, done) => {
                if (signal.aborted) done();
                return response.data;
              },
            )
          : await o.paginate(
              o.rest.actions.listSelfHostedRunnersForRepo,
              { owner, repo, per_page: 100 },
              (response, done) => {
                if (signal.aborted) done();
                return response.data;
              },
            );
        signal.throwIfAborted();
        return runnerList(runners).map(toRunner);
      });
    },

    // One runner asked for: 404 is that runner gone.
    async getRunner(id) {
      return call(`getRunner ${id}`, async (o, request) => {
        try {
          const { data } = isOrg
            ? await o.rest.actions.getSelfHostedRunnerForOrg({ org: owner, runner_id: id, request })
            : await o.rest.actions.getSelfHostedRunnerForRepo({ owner, repo, runner_id: id, request });
          return toRunner(data as RunnerData);
        } catch (err) {
          if (describeFailure(err).status === 404) return undefined;
          throw err;
        }
      });
    },

    async findRunnersByName(name) {
      return call(`findRunnersByName ${name}`, async (o, request) => {
        const { data } = isOrg
          ? await o.rest.actions.listSelfHostedRunnersForOrg({ org: owner, name, per_page: 100, request })
          : await o.rest.actions.listSelfHostedRunnersForRepo({ owner, repo, name, per_page: 100, request });
        return runnerList(data.runners)
          .filter((r) => r.name === name)
          .map(toRunner);
      });
    },

    async deleteRunner(id) {
      return call(`deleteRunner ${id}`, async (o, request) => {
        try {
          if (isOrg)
            await o.rest.actions.deleteSelfHostedRunnerFromOrg({ org: owner, runner_id: id, request });
          else await o.rest.actions.deleteSelfHostedRunnerFromRepo({ owner, repo, runner_id: id, request });
          return 'deleted' as const;
        } catch (err) {
          const status = describeFailure(err).status;
          if (status === 404) return 'gone' as const;
          // GitHub refuses to remove a runner that is running a job.
          if (status === 422) return 'busy' as const;
          throw err;
        }
      });
    },

    async createRegistrationToken() {
      return call('createRegistrationToken', async (o, request) => {
        const { data } = isOrg
          ? await o.rest.actions.createRegistrationTokenForOrg({ org: owner, request })
          : await o.rest.actions.createRegistrationTokenForRepo({ owner, repo, request });
        return { token: data.token, expiresAt: data.expires_at };
      });
    },

    async generateJitConfig({ name, runnerGroupId, labels }) {
      return call(`generateJitConfig ${name}`, async (o, request) => {
        const body = { name, runner_group_id: runnerGroupId, labels, request };
        try {
          const { data } = isOrg
            ? await o.rest.actions.generateRunnerJitconfigForOrg({ org: owner, ...body })
            : await o.rest.actions.generateRunnerJitconfigForRepo({ owner, repo, ...body });
          return { runnerId: data.runner.id, encodedJitConfig: data.encoded_jit_config };
        } catch (err) {
          // GitHub refuses a second runner of the same name.
          if (describeFailure(err).status === 409) return 'exists' as const;
          throw err;
        }
      });
    },

    async getLatestRunnerRelease() {
      return call('getLatestRunnerRelease', async (o, request) => {
        const { data } = await o.rest.repos.getLatestRelease({ owner: 'actions', repo: 'runner', request });
        const version = data.tag_name.replace(/^v/, '');
        const out: RunnerRelease = { tag: data.tag_name, version };
        if (data.published_at) out.publishedAt = data.published_at;
        const linux = data.assets?.find((a) => a.name === `actions-runner-linux-x64-${version}.tar.gz`) as
          { digest?: string | null } | undefined;
        const digest = /^sha256:([0-9a-f]{64})$/.exec(linux?.digest ?? '');
        if (digest) out.linuxX64Sha256 = digest[1];
        return out;
      });
    },

    // One job asked for: 404 is no such job (or none kiln may see).
    async getWorkflowJob(repository, jobId) {
      const [jobOwner, jobRepo] = splitRepository(repository);
      return call(`getWorkflowJob ${repository} ${jobId}`, async (o, request) => {
        try {
          const { data } = await o.rest.actions.getJobForWorkflowRun({
            owner: jobOwner,
            repo: jobRepo,
            job_id: jobId,
            request,
          });
          return workflowJob(data, repository);
        } catch (err) {
          if (describeFailure(err).status === 404) return undefined;
          throw err;
        }
      });
    },

    async listQueuedRuns(repository) {
      const [jobOwner, jobRepo] = splitRepository(repository);
      return call(`listQueuedRuns ${repository}`, async (o, request) => {
        const { data } = await o.rest.actions.listWorkflowRunsForRepo({
          owner: jobOwner,
          repo: jobRepo,
          status: 'queued',
          per_page: 100,
          request,
        });
        if (!Array.isArray(data.workflow_runs))
          throw new Error('the answer (HTTP 200) holds no list of runs');
        return data.workflow_runs.map((r) => r.id).sort((a, b) => a - b);
      });
    },

    async listRunJobs(repository, runId) {
      const [jobOwner, jobRepo] = splitRepository(repository);
      return call(`listRunJobs ${repository} ${runId}`, async (o, request) => {
        try {
          const { data } = await o.rest.actions.listJobsForWorkflowRun({
            owner: jobOwner,
            repo: jobRepo,
            run_id: runId,
            filter: 'latest',
            per_page: 100,
            request,
          });
          if (!Array.isArray(data.jobs)) throw new Error('the answer (HTTP 200) holds no list of jobs');
          return data.jobs.map((job) => workflowJob(job, repository));
        } catch (err) {
          // The run was deleted since the list: it has no jobs to wait.
          if (describeFailure(err).status === 404) return [];
          throw err;
        }
      });
    },

    async listQueuedJobs(repository, { maxRuns = 10, requests, known } = {}) {
      const count = () => {
        if (requests) requests.count++;
      };
      count();
      const ids = await this.listQueuedRuns(repository);
      // Runs the caller knows nothing of first (a lost delivery hides there), then the rest; oldest first.
      const runs = [...ids.filter((id) => !known?.(id)), ...ids.filter((id) => known?.(id))].slice(
        0,
        maxRuns,
      );
      const jobs: WorkflowJob[] = [];
      for (const runId of runs) {
        count();
        for (const job of await this.listRunJobs(repository, runId))
          if (job.status === 'queued' || job.status === 'waiting') jobs.push(job);
      }
      return jobs;
    },
  };
}

/** `owner/name` as its two parts; anything else is a caller's mistake. */
function splitRepository(repository: string): [string, string] {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(repository);
  if (!m) throw new TypeError(`"${repository}" is not a repository (owner/name)`);
  return [m[1]!, m[2]!];
}

/**
 * GitHub's `job` as kiln's WorkflowJob. GitHub's `requested` and `pending` come before `queued`:
 * the job waits for a runner all the same. A job that is not one is a failed read.
 */
function workflowJob(data: unknown, repository: string): WorkflowJob {
  const raw = data as { status?: unknown } | null;
  const status = raw?.status === 'requested' || raw?.status === 'pending' ? 'queued' : raw?.status;
  const parsed = toWorkflowJob({ ...(raw ?? {}), status }, repository);
  // A plain Error: the caller's githubError names the operation and makes it a PermanentError.
  if (!parsed.ok) throw new Error(`the answer (HTTP 200) is no workflow job: ${parsed.problem}`);
  return parsed.job;
}

/** The runners of a list answer; anything else is a failed read, never an empty fleet. */
function runnerList(value: unknown): RunnerData[] {
  const valid =
    Array.isArray(value) &&
    value.every(
      (r) =>
        typeof (r as RunnerData | null)?.id === 'number' &&
        typeof (r as RunnerData | null)?.name === 'string',
    );
  // A plain Error: the caller's githubError names the operation and makes it a PermanentError.
  if (!valid) throw new Error('the answer (HTTP 200) holds no list of runners');
  return value as RunnerData[];
}

/**
 * A 403/429 that is a rate limit (primary: remaining 0; secondary: GitHub's message) is transient
 * even though it is a 4xx: the throttling plugin already waited as long as kiln accepts, and a later
 * attempt (the orchestration's retry) will get through.
 */
function githubError(operation: string, err: unknown) {
  const e = err as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | undefined> };
  };
  const rateLimited =
    (e?.status === 403 || e?.status === 429) &&
    (e.response?.headers?.['x-ratelimit-remaining'] === '0' || /rate limit/i.test(String(e.message ?? '')));
  if (rateLimited) return new TransientError(`${operation} failed (HTTP ${e.status} rate limited)`);
  return toClientError(operation, err);
}

function toRunner(r: RunnerData): GitHubRunner {
  return {
    id: r.id,
    name: r.name,
    status: r.status === 'online' ? 'online' : 'offline',
    busy: r.busy === true,
    labels: (r.labels ?? []).map((l) => l.name),
  };
}

/** Every attempt through Octokit's fetch: its own timeout, and the observer told how it went. */
function fetchWithTimeout(ms: number, observer?: ApiObserver): typeof fetch {
  return async (input, init) => {
    const attempt = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, attempt]) : attempt;
    let response: Response;
    try {
      response = await fetch(input, { ...init, signal });
    } catch (error) {
      observer?.failure('github');
      throw error;
    } finally {
      // AbortSignal.any holds its sources weakly (Node 20): without this reference the attempt's
      // timeout could be garbage-collected before it fires, and a hung attempt would wait for the
      // call's deadline instead.
      keepAlive(attempt);
    }
    observer?.response('github', response.status, response.headers);
    return response;
  };
}

function keepAlive(_value: unknown): void {}

/** A stand-in for the throttling plugin's write group: one write at a time, `ms` apart. */
function spacedGate(ms: number) {
  let last = 0;
  let chain: Promise<void> = Promise.resolve();
  const limiter = {
    schedule<A extends unknown[], R>(
      _jobOptions: unknown,
      fn: (...args: A) => R | Promise<R>,
      ...args: A
    ): Promise<R> {
      const turn = chain.then(async () => {
        const wait = last + ms - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = Date.now();
      });
      chain = turn.catch(() => {});
      return turn.then(() => fn(...args));
    },
  };
  return { key: () => limiter };
}
