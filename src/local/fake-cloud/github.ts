/**
 * Fake GitHub REST API (the parts kiln uses): self-hosted runners of an organisation (and of one
 * repository), registration tokens, JIT configs, the latest actions/runner release, the workflow
 * jobs and queued runs of the org's repositories (the workload's GitHub jobs), the GitHub App
 * installation-token flow (RS256 JWT verified against the App's key) and rate-limit headers with a
 * primary limit of 5,000 requests per token per (virtual) hour and GitHub's secondary limits (900
 * points a virtual minute, 100 requests in flight).
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import type { FaultBook } from './faults.js';
import { applyHttpFault, sendJson, type FakeRequest } from './http.js';
import type { TokenIssuer } from './tokens.js';
import type { World, WorldRunner } from './world.js';
import { isGitHubJob, jobBody, runBody, userBody } from './github-jobs.js';

const GITHUB_RATE_LIMIT = 5000;
/** Secondary limits (cloud-apis.md §5): points a minute per token, and requests in flight. */
const SECONDARY_POINTS_PER_MINUTE = 900;
const SECONDARY_CONCURRENCY = 100;
const DOCS = 'https://docs.github.com/rest';

export interface GitHubFakeOptions {
  world: World;
  tokens: TokenIssuer;
  faults: FaultBook;
  origin: () => string;
  /** The App's private key (PEM) whose public half verifies JWTs. */
  appPrivateKeyPem: string;
  /** A classic PAT that is also accepted (GITHUB_AUTH=pat). */
  pat: () => string;
  /** Primary rate limit per token per virtual hour (default 5,000). */
  rateLimit?: number;
}

type Caller = { kind: 'jwt'; appId: string } | { kind: 'token'; key: string };

export function githubHandler(o: GitHubFakeOptions) {
  const { world, faults } = o;
  const names = world.names;
  const appPublicKey: KeyObject = createPublicKey(o.appPrivateKeyPem);
  const usage = new Map<string, { window: number; used: number }>();
  /** Secondary limits per token: points in the current virtual minute, requests not yet answered. */
  const points = new Map<string, { minute: number; used: number }>();
  const inFlight = new Map<string, number>();
  const limit = o.rateLimit ?? GITHUB_RATE_LIMIT;

  return (req: FakeRequest): void => {
    const path = req.url.pathname.replace(/\/+$/, '');
    const m = req.method;
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);

    const caller = authenticate(req);
    if (caller === 'missing') return error(req, 401, 'Requires authentication');
    if (caller === 'bad') return error(req, 401, 'Bad credentials');
    if (typeof caller === 'string') return error(req, 401, caller);

    // App (JWT) endpoints.
    if (parts[0] === 'app' || (parts.at(-1) === 'installation' && m === 'GET')) {
      if (caller.kind !== 'jwt') return error(req, 401, 'A JSON web token could not be decoded', undefined);
      if (m === 'GET' && parts[0] === 'orgs' && parts.length === 3) {
        return op(req, caller, 'getOrgInstallation', () => {
          if (parts[1]!.toLowerCase() !== names.githubOwner.toLowerCase())
            return error(req, 404, 'Not Found');
          sendJson(req.res, 200, installationBody(), rateHeaders(caller));
        });
      }
      if (m === 'GET' && parts[0] === 'repos' && parts.length === 4) {
        return op(req, caller, 'getRepoInstallation', () => {
          if (parts[1]!.toLowerCase() !== names.githubOwner.toLowerCase())
            return error(req, 404, 'Not Found');
          sendJson(req.res, 200, installationBody(), rateHeaders(caller));
        });
      }
      if (
        m === 'POST' &&
        parts[0] === 'app' &&
        parts[1] === 'installations' &&
        parts[3] === 'access_tokens' &&
        parts.length === 4
      ) {
        return op(req, caller, 'createInstallationAccessToken', () => {
          if (parts[2] !== String(names.githubInstallationId)) return error(req, 404, 'Not Found');
          const { token, expiresAtMs } = o.tokens.issue(
            `github-installation:${names.githubInstallationId}`,
            'github-installation',
          );
          sendJson(
            req.res,
            201,
            {
              token,
              expires_at: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
              permissions: {
                organization_self_hosted_runners: 'write',
                administration: 'write',
                metadata: 'read',
              },
              repository_selection: 'all',
            },
            rateHeaders(caller),
          );
        });
      }
      if (m === 'GET' && path === '/app') {
        return sendJson(req.res, 200, {
          id: Number(names.githubAppId),
          slug: 'kiln',
          node_id: 'A_kwHOAAAmvw',
          owner: orgAccount(),
          name: 'kiln',
          description: 'Keeps self-hosted CI runner fleets fresh',
          external_url: 'https://github.com/apps/kiln',
          html_url: 'https://github.com/apps/kiln',
          created_at: '2026-01-05T10:00:00Z',
          updated_at: '2026-01-05T10:00:00Z',
          permissions: {
            organization_self_hosted_runners: 'write',
            administration: 'write',
            metadata: 'read',
          },
          events: [],
        });
      }
      return error(req, 404, 'Not Found');
    }
    if (caller.kind === 'jwt') {
      // A JWT only works for /app endpoints.
      return error(
        req,
        403,
        'A JSON web token cannot be used to access this resource; use an installation token.',
      );
    }
    if (!count(req, caller) || !withinSecondaryLimits(req, caller)) return;

    if (m === 'GET' && path === '/rate_limit') {
      const u = usage.get(caller.key)!;
      const reset = resetOf(u.window);
      return sendJson(
        req.res,
        200,
        {
          resources: {
            core: { limit, used: u.used, remaining: limit - u.used, reset },
            // Search has its own quota (30 a minute); required in GitHub's rate-limit-overview.
            search: {
              limit: 30,
              used: 0,
              remaining: 30,
              reset: Math.ceil(world.clock.nowMs() / 60_000) * 60,
            },
          },
          rate: { limit, used: u.used, remaining: limit - u.used, reset },
        },
        rateHeaders(caller),
      );
    }
    if (m === 'GET' && path === '/repos/actions/runner/releases/latest') {
      return op(req, caller, 'getLatestRelease', () =>
        sendJson(req.res, 200, releaseBody(), rateHeaders(caller)),
      );
    }

    // The org's runner groups (JIT configs need a runner_group_id): only the Default group.
    if (
      m === 'GET' &&
      parts[0] === 'orgs' &&
      parts[2] === 'actions' &&
      parts[3] === 'runner-groups' &&
      parts.length === 4
    ) {
      if (parts[1]!.toLowerCase() !== names.githubOwner.toLowerCase())
        return error(req, 404, 'Not Found', caller);
      return op(req, caller, 'listRunnerGroups', () =>
        sendJson(
          req.res,
          200,
          {
            total_count: 1,
            runner_groups: [
              {
                id: 1,
                name: 'Default',
                visibility: 'all',
                default: true,
                runners_url: `${o.origin()}/orgs/${names.githubOwner}/actions/runner-groups/1/runners`,
                inherited: false,
                allows_public_repositories: false,
                restricted_to_workflows: false,
                selected_workflows: [],
                workflow_restrictions_read_only: false,
              },
            ],
          },
          rateHeaders(caller),
        ),
      );
    }
    // Workflow jobs and runs of the org's repositories (issue 19: the reconcile read of job demand).
    if (
      m === 'GET' &&
      parts[0] === 'repos' &&
      parts[3] === 'actions' &&
      (parts[4] === 'jobs' || parts[4] === 'runs')
    )
      return workflowJobs(req, caller, parts);
    // Runner scope: /orgs/{org}/actions/runners or /repos/{owner}/{repo}/actions/runners
    let scopeLen: number;
    if (parts[0] === 'orgs' && parts[2] === 'actions' && parts[3] === 'runners') {
      if (parts[1]!.toLowerCase() !== names.githubOwner.toLowerCase()) return error(req, 404, 'Not Found');
      scopeLen = 4;
    } else if (parts[0] === 'repos' && parts[3] === 'actions' && parts[4] === 'runners') {
      if (
        parts[1]!.toLowerCase() !== names.githubOwner.toLowerCase() ||
        parts[2]!.toLowerCase() !== names.githubRepo.toLowerCase()
      )
        return error(req, 404, 'Not Found');
      scopeLen = 5;
    } else {
      return error(req, 404, 'Not Found');
    }
    const sub = parts.slice(scopeLen);
    if (sub.length === 0 && m === 'GET')
      return op(req, caller, 'listRunners', () => listRunners(req, caller));
    if (sub.length === 1 && sub[0] === 'registration-token' && m === 'POST') {
      return op(req, caller, 'createRegistrationToken', () =>
        sendJson(
          req.res,
          201,
          {
            token: randomBytes(15)
              .toString('base64')
              .replace(/[^A-Z0-9]/gi, 'X')
              .toUpperCase()
              .slice(0, 29),
            expires_at: new Date(world.clock.nowMs() + 3600_000).toISOString(),
          },
          rateHeaders(caller),
        ),
      );
    }
    if (sub.length === 1 && sub[0] === 'generate-jitconfig' && m === 'POST')
      return op(req, caller, 'generateJitConfig', () => jitConfig(req, caller));
    if (sub.length === 1 && /^\d+$/.test(sub[0]!)) {
      const id = Number(sub[0]);
      if (m === 'GET') {
        return op(req, caller, 'getRunner', () => {
          const r = world.runners.get(id);
          if (!r) return error(req, 404, 'Not Found', caller);
          sendJson(req.res, 200, runnerBody(r), rateHeaders(caller));
        });
      }
      if (m === 'DELETE') {
        return op(req, caller, 'deleteRunner', () => {
          const outcome = world.deleteRunner(id);
          if (outcome === 'gone') return error(req, 404, 'Not Found', caller);
          if (outcome === 'busy')
            return error(
              req,
              422,
              `Bad request - Runner "${world.runners.get(id)?.name ?? id}" is still running a job.`,
              caller,
            );
          sendJson(req.res, 204, undefined, rateHeaders(caller));
        });
      }
    }
    return error(req, 404, 'Not Found', caller);
  };

  // ---------------------------------------------------------------- auth

  function authenticate(req: FakeRequest): Caller | 'missing' | 'bad' | string {
    const h = req.headers.authorization;
    if (!h) return 'missing';
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(h);
    if (!m) return 'bad';
    const value = m[1]!;
    if (value.split('.').length === 3 && !value.startsWith('ghs_') && !o.tokens.issued(value))
      return verifyJwt(value);
    if (value === o.pat()) return { kind: 'token', key: 'pat' };
    const check = o.tokens.check(
      value,
      `github-installation:${names.githubInstallationId}`,
      'github-installation',
    );
    return check === 'ok' ? { kind: 'token', key: value } : 'bad';
  }

  function verifyJwt(jwt: string): Caller | string {
    const [h, p, s] = jwt.split('.') as [string, string, string];
    let header: { alg?: string };
    let payload: { iat?: number; exp?: number; iss?: string | number };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof payload;
    } catch {
      return 'A JSON web token could not be decoded';
    }
    if (header.alg !== 'RS256') return 'A JSON web token could not be decoded';
    const ok = createVerify('RSA-SHA256')
      .update(`${h}.${p}`)
      .verify(appPublicKey, Buffer.from(s, 'base64url'));
    if (!ok) return 'A JSON web token could not be decoded';
    if (String(payload.iss) !== names.githubAppId) return "'Issuer' claim ('iss') must be an Integer";
    // JWT times are the client's wall clock, like GitHub's own check.
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp <= now)
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    if (typeof payload.iat !== 'number' || payload.iat > now + 60)
      return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
    if (payload.exp - payload.iat > 660) return "'Expiration time' claim ('exp') is too far in the future";
    return { kind: 'jwt', appId: String(payload.iss) };
  }

  // ---------------------------------------------------------------- rate limit, faults, errors

  function windowNow(): number {
    return Math.floor(world.clock.nowMs() / 3600_000);
  }

  function resetOf(window: number): number {
    return ((window + 1) * 3600_000) / 1000;
  }

  /** Counts the request against the caller's primary limit; answers 403 when it is exhausted. */
  function count(req: FakeRequest, caller: Caller): boolean {
    if (caller.kind !== 'token') return true;
    const w = windowNow();
    let u = usage.get(caller.key);
    if (!u || u.window !== w) usage.set(caller.key, (u = { window: w, used: 0 }));
    if (u.used >= limit) {
      sendJson(
        req.res,
        403,
        {
          message: `API rate limit exceeded for installation ID ${names.githubInstallationId}.`,
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
          status: '403',
        },
        rateHeaders(caller),
      );
      return false;
    }
    u.used++;
    return true;
  }

  /**
   * GitHub's secondary limits (cloud-apis.md §5): at most 100 requests in flight per token, and at most
   * 900 points a minute, a GET (or HEAD/OPTIONS) costing 1 point and any other method 5. Counted on the
   * virtual clock, as the primary limit is; a refusal is a 403 with GitHub's message and Retry-After.
   */
  function withinSecondaryLimits(req: FakeRequest, caller: Caller & { kind: 'token' }): boolean {
    const key = caller.key;
    const minute = Math.floor(world.clock.nowMs() / 60_000);
    let p = points.get(key);
    if (!p || p.minute !== minute) points.set(key, (p = { minute, used: 0 }));
    const cost = ['GET', 'HEAD', 'OPTIONS'].includes(req.method) ? 1 : 5;
    const open = inFlight.get(key) ?? 0;
    if (p.used + cost > SECONDARY_POINTS_PER_MINUTE || open >= SECONDARY_CONCURRENCY) {
      const retryAfter = Math.max(1, Math.ceil(((minute + 1) * 60_000 - world.clock.nowMs()) / 1000));
      sendJson(
        req.res,
        403,
        {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          status: '403',
        },
        { ...rateHeaders(caller), 'retry-after': String(retryAfter) },
      );
      return false;
    }
    p.used += cost;
    inFlight.set(key, open + 1);
    req.res.once('close', () => inFlight.set(key, (inFlight.get(key) ?? 1) - 1));
    return true;
  }

  /**
   * Rate-limit headers on every response. Installation tokens and PATs have the primary limit (5,000
   * per virtual hour, enforced in count()); App JWT and unauthenticated calls get GitHub's headers
   * for their own quotas (not enforced here).
   */
  function rateHeaders(caller: Caller | undefined): Record<string, string> {
    const headers: Record<string, string> = { 'x-github-api-version-selected': '2022-11-28' };
    const key = !caller ? 'anonymous' : caller.kind === 'token' ? caller.key : `app:${caller.appId}`;
    const cap = !caller ? 60 : limit;
    const w = windowNow();
    let u = usage.get(key);
    if (!u || u.window !== w) u = { window: w, used: 0 };
    // Token calls were counted on the way in; the others count here, once per response.
    if (!caller || caller.kind === 'jwt') {
      u = { window: w, used: u.used + 1 };
      usage.set(key, u);
    }
    return {
      ...headers,
      'x-ratelimit-limit': String(cap),
      'x-ratelimit-remaining': String(Math.max(0, cap - u.used)),
      'x-ratelimit-used': String(u.used),
      'x-ratelimit-reset': String(resetOf(u.window)),
      'x-ratelimit-resource': 'core',
    };
  }

  function error(req: FakeRequest, status: number, message: string, caller?: Caller): void {
    sendJson(
      req.res,
      status,
      { message, documentation_url: DOCS, status: String(status) },
      rateHeaders(caller),
    );
  }

  function op(req: FakeRequest, caller: Caller, operation: string, fn: () => void): void {
    const fault = faults.takeHttp('github', operation);
    if (
      applyHttpFault(req, fault, (status) => ({
        body:
          status === 403 || status === 429
            ? {
                message:
                  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
                documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
                status: String(status),
              }
            : {
                message: status >= 500 ? 'Server Error' : `Injected ${status}`,
                documentation_url: DOCS,
                status: String(status),
              },
        headers: rateHeaders(caller),
      }))
    )
      return;
    fn();
  }

  // ---------------------------------------------------------------- bodies

  function listRunners(req: FakeRequest, caller: Caller): void {
    const nameFilter = req.url.searchParams.get('name');
    const all = [...world.runners.values()]
      .filter((r) => !nameFilter || r.name === nameFilter)
      .sort((a, b) => a.id - b.id);
    const { slice, headers } = paged(req, caller, all);
    sendJson(req.res, 200, { total_count: all.length, runners: slice.map(runnerBody) }, headers);
  }

  /**
   * GET …/actions/jobs/{job_id}, …/actions/runs (with `status`, paged) and …/actions/runs/{run_id}/jobs
   * of a repository of the org: the world's workload GitHub jobs, one job per run. Any repository of
   * the org answers (those without jobs with empty lists); another owner's is not found.
   */
  function workflowJobs(req: FakeRequest, caller: Caller & { kind: 'token' }, parts: string[]): void {
    const [, owner = '', repo = '', , kind, id, tail] = parts;
    const repository = `${owner}/${repo}`.toLowerCase();
    const inRepo = () =>
      world.jobs.filter(isGitHubJob).filter((j) => j.github.repository.toLowerCase() === repository);
    const context = (job: Parameters<typeof world.githubJobStatus>[0]) => ({
      api: o.origin(),
      owner: names.githubOwner,
      status: world.githubJobStatus(job),
    });
    const known = owner.toLowerCase() === names.githubOwner.toLowerCase();
    if (kind === 'jobs' && id !== undefined && /^\d+$/.test(id) && tail === undefined && parts.length === 6)
      return op(req, caller, 'getJobForWorkflowRun', () => {
        const job = known ? inRepo().find((j) => j.github.id === Number(id)) : undefined;
        if (!job) return error(req, 404, 'Not Found', caller);
        sendJson(req.res, 200, jobBody(job, context(job)), rateHeaders(caller));
      });
    if (kind === 'runs' && parts.length === 5)
      return op(req, caller, 'listWorkflowRunsForRepo', () => {
        if (!known) return error(req, 404, 'Not Found', caller);
        const status = req.url.searchParams.get('status');
        const runs = inRepo()
          .filter((j) => !status || world.githubJobStatus(j) === status)
          .sort((a, b) => b.github.runId - a.github.runId);
        const { slice, headers } = paged(req, caller, runs);
        sendJson(
          req.res,
          200,
          { total_count: runs.length, workflow_runs: slice.map((j) => runBody(j, context(j))) },
          headers,
        );
      });
    if (kind === 'runs' && id !== undefined && /^\d+$/.test(id) && tail === 'jobs' && parts.length === 7)
      return op(req, caller, 'listJobsForWorkflowRun', () => {
        const jobs = known ? inRepo().filter((j) => j.github.runId === Number(id)) : [];
        if (jobs.length === 0) return error(req, 404, 'Not Found', caller);
        const { slice, headers } = paged(req, caller, jobs);
        sendJson(
          req.res,
          200,
          { total_count: jobs.length, jobs: slice.map((j) => jobBody(j, context(j))) },
          headers,
        );
      });
    return error(req, 404, 'Not Found', caller);
  }

  /** One page of `items` as `per_page` and `page` ask (GitHub's default 30, at most 100), with GitHub's Link header. */
  function paged<T>(req: FakeRequest, caller: Caller, items: T[]) {
    const perPage = Math.min(100, Math.max(1, Number(req.url.searchParams.get('per_page') ?? '30') || 30));
    const page = Math.max(1, Number(req.url.searchParams.get('page') ?? '1') || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const headers = rateHeaders(caller);
    const link = (p: number, rel: string) => {
      const u = new URL(`${o.origin()}${req.url.pathname}`);
      for (const [k, v] of req.url.searchParams) u.searchParams.set(k, v);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      return `<${u.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    if (links.length > 0) headers.link = links.join(', ');
    return { slice: items.slice((page - 1) * perPage, page * perPage), headers };
  }

  function jitConfig(req: FakeRequest, caller: Caller): void {
    let b: Record<string, unknown>;
    try {
      b = JSON.parse(req.body || '{}') as Record<string, unknown>;
    } catch {
      return error(req, 400, 'Problems parsing JSON', caller);
    }
    if (typeof b.name !== 'string' || b.name === '')
      return error(req, 422, 'Invalid request.\n\n"name" wasn\'t supplied.', caller);
    if (typeof b.runner_group_id !== 'number')
      return error(req, 422, 'Invalid request.\n\n"runner_group_id" wasn\'t supplied.', caller);
    if (!Array.isArray(b.labels) || b.labels.length < 1 || b.labels.length > 100)
      return error(req, 422, 'Invalid request.\n\n"labels" must have between 1 and 100 items.', caller);
    // The config carries the runner's credentials (here a random secret): it registers that runner only, once.
    const secret = randomBytes(24).toString('base64url');
    const r = world.createJitRunner(b.name, b.labels as string[], secret);
    if (r === 'exists')
      return error(req, 409, `Already exists - A runner with the name ${b.name} already exists.`, caller);
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64');
    const encoded = Buffer.from(
      JSON.stringify({
        '.runner': part({ agentId: r.id, agentName: r.name, poolId: 1, ephemeral: true }),
        '.credentials': part({ scheme: 'OAuth', secret }),
      }),
    ).toString('base64');
    sendJson(req.res, 201, { runner: runnerBody(r), encoded_jit_config: encoded }, rateHeaders(caller));
  }

  function installationBody() {
    return {
      id: names.githubInstallationId,
      account: orgAccount(),
      app_id: Number(names.githubAppId),
      app_slug: 'kiln',
      target_id: 9919,
      target_type: 'Organization',
      single_file_name: null,
      repository_selection: 'all',
      html_url: `https://github.com/organizations/${names.githubOwner}/settings/installations/${names.githubInstallationId}`,
      repositories_url: `${o.origin()}/installation/repositories`,
      suspended_by: null,
      suspended_at: null,
      permissions: { organization_self_hosted_runners: 'write', administration: 'write', metadata: 'read' },
      events: [],
      created_at: '2026-01-05T10:00:00Z',
      updated_at: '2026-01-05T10:00:00Z',
      access_tokens_url: `${o.origin()}/app/installations/${names.githubInstallationId}/access_tokens`,
    };
  }

  /** The org as GitHub's `simple-user` (an installation's `account`). */
  function orgAccount() {
    return userBody(o.origin(), names.githubOwner, 9919, 'Organization');
  }

  function releaseBody() {
    const tag = world.runnerRelease.tag;
    const v = tag.replace(/^v/, '');
    const published = new Date(world.runnerRelease.publishedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const api = o.origin();
    const user = {
      login: 'github-actions[bot]',
      id: 41898282,
      node_id: 'MDM6Qm90NDE4OTgyODI=',
      avatar_url: 'https://avatars.githubusercontent.com/in/15368?v=4',
      gravatar_id: '',
      url: `${api}/users/github-actions%5Bbot%5D`,
      html_url: 'https://github.com/apps/github-actions',
      followers_url: `${api}/users/github-actions%5Bbot%5D/followers`,
      following_url: `${api}/users/github-actions%5Bbot%5D/following{/other_user}`,
      gists_url: `${api}/users/github-actions%5Bbot%5D/gists{/gist_id}`,
      starred_url: `${api}/users/github-actions%5Bbot%5D/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/users/github-actions%5Bbot%5D/subscriptions`,
      organizations_url: `${api}/users/github-actions%5Bbot%5D/orgs`,
      repos_url: `${api}/users/github-actions%5Bbot%5D/repos`,
      events_url: `${api}/users/github-actions%5Bbot%5D/events{/privacy}`,
      received_events_url: `${api}/users/github-actions%5Bbot%5D/received_events`,
      type: 'Bot',
      site_admin: false,
    };
    const asset = (name: string, id: number) => ({
      url: `${api}/repos/actions/runner/releases/assets/${id}`,
      browser_download_url: `https://github.com/actions/runner/releases/download/${tag}/${name}`,
      id,
      node_id: `RA_${id}`,
      name,
      label: '',
      state: 'uploaded',
      content_type: 'application/octet-stream',
      size: 180_000_000,
      digest: `sha256:${'0'.repeat(64)}`,
      download_count: 1000,
      created_at: published,
      updated_at: published,
      uploader: user,
    });
    return {
      url: `${api}/repos/actions/runner/releases/200000001`,
      html_url: `https://github.com/actions/runner/releases/tag/${tag}`,
      assets_url: `${api}/repos/actions/runner/releases/200000001/assets`,
      upload_url: `https://uploads.github.com/repos/actions/runner/releases/200000001/assets{?name,label}`,
      tarball_url: `${api}/repos/actions/runner/tarball/${tag}`,
      zipball_url: `${api}/repos/actions/runner/zipball/${tag}`,
      discussion_url: `https://github.com/actions/runner/discussions/1`,
      id: 200000001,
      node_id: 'RE_kwDOCi8kT84L6NTB',
      tag_name: tag,
      target_commitish: 'main',
      name: tag,
      body: `## What's Changed\n- runner ${v}`,
      draft: false,
      prerelease: false,
      immutable: false,
      created_at: published,
      published_at: published,
      author: user,
      assets: [
        asset(`actions-runner-linux-x64-${v}.tar.gz`, 300000001),
        asset(`actions-runner-win-x64-${v}.zip`, 300000002),
      ],
    };
  }
}

function runnerBody(r: WorldRunner) {
  return {
    id: r.id,
    name: r.name,
    os: r.os,
    status: r.status,
    busy: r.busy,
    ephemeral: r.ephemeral,
    version: r.version,
    runner_group_id: 1,
    labels: r.labels.map((l) => ({ ...l })),
  };
}
