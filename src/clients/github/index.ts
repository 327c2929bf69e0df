/**
 * kiln's GitHub client: @octokit/rest with the throttling plugin (429/403 rate limits, honouring
 * Retry-After and the rate-limit reset) and the retry plugin (5xx). Auth by GitHub App (private key
 * from Key Vault; installation id from settings or looked up for the org/repo) or by a PAT from Key
 * Vault. Base URL from settings (GitHub Enterprise Server). Tokens never reach logs or errors.
 */
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Settings } from '../../config/load-settings.js';
import { describeFailure, toClientError } from '../client-error.js';
import { TransientError } from '../errors.js';
import type { FullGitHubClient, GitHubRunner, RunnerRelease, SecretReader } from '../types.js';

const KilnOctokit = Octokit.plugin(retry, throttling);
type KilnOctokitInstance = InstanceType<typeof KilnOctokit>;

export interface GitHubClientOptions {
  /**
   * Minimum spacing between writes (default: the throttling plugin's 1 s, GitHub's advice against
   * secondary rate limits).
   */
  writeSpacingMs?: number;
  /** Longest wait kiln accepts for a rate limit before failing the call as transient (default 120 s). */
  maxRateLimitWaitSeconds?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Base of the retry plugin's backoff for 5xx and network errors: n² × base (default 1 s). */
  retryBaseMs?: number;
  /** Where Octokit's warnings go (default: nowhere). Messages carry no tokens. */
  log?: { warn: (message: string) => void };
}

type RunnerData = { id: number; name: string; status: string; busy: boolean; labels: { name: string }[] };

export function createGitHubClient(
  github: NonNullable<Settings['github']>,
  secrets: SecretReader,
  options: GitHubClientOptions = {},
): FullGitHubClient {
  const maxWait = options.maxRateLimitWaitSeconds ?? 120;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const warn = options.log?.warn ?? (() => {});
  const isOrg = github.scope === 'org';
  const owner = github.owner;
  const repo = github.repo;

  const baseOptions = () => ({
    baseUrl: github.apiUrl,
    userAgent: 'kiln',
    // Octokit 22 has no timeout option: every attempt gets its own deadline through fetch.
    request: { fetch: fetchWithTimeout(timeoutMs) },
    log: { debug: () => {}, info: () => {}, warn: (m: string) => warn(m), error: (m: string) => warn(m) },
    throttle: {
      onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
        warn(`github primary rate limit hit; retry after ${retryAfter}s (attempt ${retryCount + 1})`);
        return retryCount < 2 && retryAfter <= maxWait;
      },
      onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
        warn(`github secondary rate limit hit; retry after ${retryAfter}s (attempt ${retryCount + 1})`);
        return retryCount < 3 && retryAfter <= maxWait;
      },
      ...(options.writeSpacingMs !== undefined ? { write: spacedGate(options.writeSpacingMs) as never } : {}),
    },
    // 403/429 belong to the throttling plugin (Retry-After / reset); the retry plugin takes 5xx.
    retry: {
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      retries: 3,
      ...(options.retryBaseMs !== undefined ? { retryAfterBaseValue: options.retryBaseMs } : {}),
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

  async function call<T>(operation: string, fn: (o: KilnOctokitInstance) => Promise<T>): Promise<T> {
    const o = await octokit();
    try {
      return await fn(o);
    } catch (err) {
      throw githubError(`github ${operation}`, err);
    }
  }

  return {
    async listRunners() {
      return call('listRunners', async (o) => {
        const runners = isOrg
          ? await o.paginate(o.rest.actions.listSelfHostedRunnersForOrg, { org: owner, per_page: 100 })
          : await o.paginate(o.rest.actions.listSelfHostedRunnersForRepo, { owner, repo, per_page: 100 });
        return (runners as RunnerData[]).map(toRunner);
      });
    },

    async getRunner(id) {
      const o = await octokit();
      try {
        const { data } = isOrg
          ? await o.rest.actions.getSelfHostedRunnerForOrg({ org: owner, runner_id: id })
          : await o.rest.actions.getSelfHostedRunnerForRepo({ owner, repo, runner_id: id });
        return toRunner(data as RunnerData);
      } catch (err) {
        if (describeFailure(err).status === 404) return undefined;
        throw githubError(`github getRunner ${id}`, err);
      }
    },

    async findRunnersByName(name) {
      return call(`findRunnersByName ${name}`, async (o) => {
        const { data } = isOrg
          ? await o.rest.actions.listSelfHostedRunnersForOrg({ org: owner, name, per_page: 100 })
          : await o.rest.actions.listSelfHostedRunnersForRepo({ owner, repo, name, per_page: 100 });
        return (data.runners as RunnerData[]).filter((r) => r.name === name).map(toRunner);
      });
    },

    async deleteRunner(id) {
      const o = await octokit();
      try {
        if (isOrg) await o.rest.actions.deleteSelfHostedRunnerFromOrg({ org: owner, runner_id: id });
        else await o.rest.actions.deleteSelfHostedRunnerFromRepo({ owner, repo, runner_id: id });
        return 'deleted';
      } catch (err) {
        const status = describeFailure(err).status;
        if (status === 404) return 'gone';
        // GitHub refuses to remove a runner that is running a job.
        if (status === 422) return 'busy';
        throw githubError(`github deleteRunner ${id}`, err);
      }
    },

    async createRegistrationToken() {
      return call('createRegistrationToken', async (o) => {
        const { data } = isOrg
          ? await o.rest.actions.createRegistrationTokenForOrg({ org: owner })
          : await o.rest.actions.createRegistrationTokenForRepo({ owner, repo });
        return { token: data.token, expiresAt: data.expires_at };
      });
    },

    async getLatestRunnerRelease() {
      return call('getLatestRunnerRelease', async (o) => {
        const { data } = await o.rest.repos.getLatestRelease({ owner: 'actions', repo: 'runner' });
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
  };
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

function fetchWithTimeout(ms: number): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return fetch(input, { ...init, signal });
  };
}

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
