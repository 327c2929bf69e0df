/**
 * The fake GitHub's workflow jobs (issue 19): a workload GitHub job of the world (world-jobs.ts) is
 * one job of its own workflow run in repository `<owner>/app-<stream>`. Its bodies as GitHub's REST
 * API answers them (`job`, `workflow-run`, `minimal-repository`) and as a `workflow_job` webhook
 * delivers them (`webhook-workflow-job-*`), in the shapes of GitHub's OpenAPI description
 * (@octokit/openapi): the contract checker holds the REST answers to it, and a test the deliveries.
 */
import type { GitHubJobStatus, WorldJob } from './world-types.js';

/** GitHub's time format: seconds, `Z`. */
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A fixed commit per run: the fake has no repositories' contents. */
const sha = (runId: number) => runId.toString(16).padStart(40, 'a').slice(-40);

/** Everything the bodies need of the world: its API origin, the org, and the job's status now. */
export interface GitHubJobContext {
  /** The fake GitHub API origin (https://127.0.0.1:port). */
  api: string;
  owner: string;
  status: GitHubJobStatus;
}

export function userBody(api: string, login: string, id: number, type: 'User' | 'Organization') {
  return {
    login,
    id,
    node_id: `${type === 'Organization' ? 'O' : 'U'}_${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${api}/users/${login}`,
    html_url: `https://github.com/${login}`,
    followers_url: `${api}/users/${login}/followers`,
    following_url: `${api}/users/${login}/following{/other_user}`,
    gists_url: `${api}/users/${login}/gists{/gist_id}`,
    starred_url: `${api}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/users/${login}/subscriptions`,
    organizations_url: `${api}/users/${login}/orgs`,
    repos_url: `${api}/users/${login}/repos`,
    events_url: `${api}/users/${login}/events{/privacy}`,
    received_events_url: `${api}/users/${login}/received_events`,
    type,
    site_admin: false,
  };
}

/** A repository id from its name (stable, positive). */
function repositoryId(fullName: string): number {
  let h = 7;
  for (const c of fullName.toLowerCase()) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_007;
  return 100_000 + h;
}

/** The repository as GitHub's `minimal-repository` (REST) and `repository-webhooks` (deliveries) describe it. */
export function repositoryBody(api: string, fullName: string) {
  const [owner = '', name = ''] = fullName.split('/');
  const url = `${api}/repos/${fullName}`;
  const id = repositoryId(fullName);
  return {
    id,
    node_id: `R_${id}`,
    name,
    full_name: fullName,
    owner: userBody(api, owner, 9919, 'Organization'),
    private: true,
    html_url: `https://github.com/${fullName}`,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://github.com/${fullName}.git`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@github.com:${fullName}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    hooks_url: `${url}/hooks`,
  };
}

/** The extra fields a webhook's `repository` carries beyond the REST `minimal-repository`. */
function webhookRepositoryBody(api: string, fullName: string) {
  const base = repositoryBody(api, fullName);
  return {
    ...base,
    clone_url: `https://github.com/${fullName}.git`,
    default_branch: 'main',
    forks: 0,
    forks_count: 0,
    has_downloads: true,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    homepage: null,
    language: 'TypeScript',
    archived: false,
    disabled: false,
    mirror_url: null,
    open_issues: 0,
    open_issues_count: 0,
    license: null,
    pushed_at: '2026-11-30T10:00:00Z',
    size: 1024,
    stargazers_count: 0,
    svn_url: `https://github.com/${fullName}`,
    watchers: 0,
    watchers_count: 0,
    created_at: '2026-01-05T10:00:00Z',
    updated_at: '2026-11-30T10:00:00Z',
  };
}

type GitHubJob = WorldJob & { github: NonNullable<WorldJob['github']>; demand: { arrivedAt: number } };

/** Whether a world job is a workload GitHub job (it has a GitHub identity). */
export function isGitHubJob(job: WorldJob): job is GitHubJob {
  return job.github !== undefined && job.demand !== undefined;
}

/** The job's fields GitHub's REST `job` and the webhook's `workflow_job` share. */
function jobFields(job: GitHubJob, c: GitHubJobContext) {
  const g = job.github;
  const repo = `${c.api}/repos/${g.repository}`;
  const created = iso(job.demand.arrivedAt);
  const started = g.startedAt !== undefined && c.status !== 'queued' ? iso(g.startedAt) : created;
  const completed = c.status === 'completed' ? iso(g.completedAt ?? job.demand.arrivedAt) : null;
  const running = c.status !== 'queued';
  return {
    id: g.id,
    run_id: g.runId,
    run_url: `${repo}/actions/runs/${g.runId}`,
    run_attempt: 1,
    node_id: `CR_${g.id}`,
    head_sha: sha(g.runId),
    url: `${repo}/actions/jobs/${g.id}`,
    html_url: `https://github.com/${g.repository}/actions/runs/${g.runId}/job/${g.id}`,
    status: c.status,
    conclusion: c.status === 'completed' ? (g.conclusion ?? 'success') : null,
    created_at: created,
    started_at: started,
    completed_at: completed,
    name: 'build',
    steps:
      c.status === 'completed'
        ? [
            {
              name: 'Set up job',
              status: 'completed' as const,
              conclusion: 'success' as const,
              number: 1,
              started_at: started,
              completed_at: completed,
            },
          ]
        : [],
    check_run_url: `${repo}/check-runs/${g.id}`,
    labels: job.demand && 'labels' in job.demand ? [...(job.demand as { labels: string[] }).labels] : [],
    runner_id: running ? (g.runnerId ?? null) : null,
    runner_name: running ? (g.runnerName ?? null) : null,
    runner_group_id: running && g.runnerName ? 1 : null,
    runner_group_name: running && g.runnerName ? 'Default' : null,
    workflow_name: 'CI',
    head_branch: 'main',
  };
}

/** `GET /repos/{owner}/{repo}/actions/jobs/{job_id}` and the jobs of a run: GitHub's `job`. */
export function jobBody(job: GitHubJob, c: GitHubJobContext) {
  return jobFields(job, c);
}

/** The job's workflow run (one job per run): GitHub's `workflow-run`, its status the job's. */
export function runBody(job: GitHubJob, c: GitHubJobContext) {
  const g = job.github;
  const repo = `${c.api}/repos/${g.repository}`;
  const created = iso(job.demand.arrivedAt);
  const actor = userBody(c.api, 'octocat', 1, 'User');
  return {
    id: g.runId,
    name: 'CI',
    node_id: `WFR_${g.runId}`,
    check_suite_id: g.runId,
    check_suite_node_id: `CS_${g.runId}`,
    head_branch: 'main',
    head_sha: sha(g.runId),
    path: '.github/workflows/ci.yml',
    run_number: g.runId % 100_000,
    event: 'push',
    display_title: 'CI',
    status: c.status,
    conclusion: c.status === 'completed' ? (g.conclusion ?? 'success') : null,
    workflow_id: 159038,
    url: `${repo}/actions/runs/${g.runId}`,
    html_url: `https://github.com/${g.repository}/actions/runs/${g.runId}`,
    pull_requests: [],
    created_at: created,
    updated_at: created,
    actor,
    run_attempt: 1,
    run_started_at: created,
    triggering_actor: actor,
    jobs_url: `${repo}/actions/runs/${g.runId}/jobs`,
    logs_url: `${repo}/actions/runs/${g.runId}/logs`,
    check_suite_url: `${repo}/check-suites/${g.runId}`,
    artifacts_url: `${repo}/actions/runs/${g.runId}/artifacts`,
    cancel_url: `${repo}/actions/runs/${g.runId}/cancel`,
    rerun_url: `${repo}/actions/runs/${g.runId}/rerun`,
    workflow_url: `${repo}/actions/workflows/159038`,
    head_commit: {
      id: sha(g.runId),
      tree_id: sha(g.runId + 1),
      message: 'CI',
      timestamp: created,
      author: { name: 'Octo Cat', email: 'octocat@github.com' },
      committer: { name: 'GitHub', email: 'noreply@github.com' },
    },
    repository: repositoryBody(c.api, g.repository),
    head_repository: repositoryBody(c.api, g.repository),
  };
}

/**
 * The body of a `workflow_job` webhook delivery for the job's change to `c.status`: GitHub's
 * `webhook-workflow-job-<action>` (action = status), from the org's App installation.
 */
export function workflowJobDelivery(
  job: GitHubJob,
  c: GitHubJobContext & { installationId: number },
): Record<string, unknown> {
  return {
    action: c.status,
    workflow_job: jobFields(job, c),
    repository: webhookRepositoryBody(c.api, job.github.repository),
    organization: {
      login: c.owner,
      id: 9919,
      node_id: 'O_9919',
      url: `${c.api}/orgs/${c.owner}`,
      repos_url: `${c.api}/orgs/${c.owner}/repos`,
      events_url: `${c.api}/orgs/${c.owner}/events`,
      hooks_url: `${c.api}/orgs/${c.owner}/hooks`,
      issues_url: `${c.api}/orgs/${c.owner}/issues`,
      members_url: `${c.api}/orgs/${c.owner}/members{/member}`,
      public_members_url: `${c.api}/orgs/${c.owner}/public_members{/member}`,
      avatar_url: 'https://avatars.githubusercontent.com/u/9919?v=4',
      description: null,
    },
    installation: {
      id: c.installationId,
      node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${c.installationId}`,
    },
    sender: userBody(c.api, 'octocat', 1, 'User'),
  };
}
