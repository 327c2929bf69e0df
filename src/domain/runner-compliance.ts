/**
 * Whether the runners and agents a scale set's image carries are acceptable, pure: the GitHub Actions
 * runner against GitHub's 30-day update rule, the Azure DevOps agent against the version kiln is
 * configured to bake (AGENT_VERSION). The versions come from the tags kiln puts on the gallery
 * versions it publishes (orchestrations/rebuild.ts); a version kiln cannot know is `unknown`, never
 * guessed. Shared by GET /api/fleet (the dashboard) and anything else that reports runner age.
 */
import { GITHUB_RUNNER_UPDATE_DAYS } from './release.js';
import { compareVersions, isGalleryVersion } from './versions.js';

/** The runner a Linux version was built with (`template-default` when the template chose it). */
export const RUNNER_VERSION_TAG = 'kiln-runner-version';
/** The agent a Windows version was built with (`template-default` when the template chose it). */
export const AGENT_VERSION_TAG = 'kiln-agent-version';
const DAY_MS = 24 * 3600_000;

export interface RunnerReleaseInfo {
  /** e.g. 2.330.0 */
  version: string;
  publishedAt?: string;
}

export interface RunnerCompliance {
  /**
   * `current`: the latest release. `updateDue`: older, GitHub still sends it jobs until `deadline`.
   * `refused`: older, past the deadline. `unknown`: the installed or the latest version is not known.
   */
  state: 'current' | 'updateDue' | 'refused' | 'unknown';
  installed?: string;
  latest?: string;
  /**
   * When GitHub stops sending jobs at the latest: 30 days after the latest release. kiln reads only the
   * latest release; when another release came out between the installed one and it, GitHub's 30 days
   * began with that one, sooner.
   */
  deadline?: string;
  /** Whole days left until `deadline` (rounded down; negative once past it). */
  daysLeft?: number;
  reason: string;
}

/** The day GitHub stops sending jobs to runners older than a release published at `publishedAt`. */
export function runnerUpdateDeadline(publishedAt: string): string {
  return new Date(Date.parse(publishedAt) + GITHUB_RUNNER_UPDATE_DAYS * DAY_MS).toISOString();
}

/** Whole days from `now` until the runner update deadline of a release published at `publishedAt`. */
export function runnerDaysLeft(publishedAt: string, now: string): number {
  return Math.floor((Date.parse(runnerUpdateDeadline(publishedAt)) - Date.parse(now)) / DAY_MS);
}

/**
 * The metric's days left (kiln.runner.days_left): the full window while the baked runner is the
 * latest release, otherwise the days (two decimals) until the latest release's deadline, ≤ 0 once
 * GitHub refuses it; undefined when the latest release gives no date. An unknown baked runner
 * counts as behind.
 */
export function runnerWindowDaysLeft(input: {
  baked?: string;
  latest: string;
  latestPublishedAt?: string;
  now: string;
}): number | undefined {
  if (input.baked && isGalleryVersion(input.baked) && compareVersions(input.baked, input.latest) >= 0)
    return GITHUB_RUNNER_UPDATE_DAYS;
  if (!input.latestPublishedAt) return undefined;
  const days = (Date.parse(runnerUpdateDeadline(input.latestPublishedAt)) - Date.parse(input.now)) / DAY_MS;
  return Math.round(days * 100) / 100;
}

/** A version a tag records, or why there is none (absent, or the template's default, which kiln does not record). */
function recorded(tag: string | undefined, tagName: string, what: string): { version?: string; why: string } {
  if (tag && isGalleryVersion(tag)) return { version: tag, why: '' };
  if (tag === 'template-default')
    return { why: `built with the template's default ${what}, whose version kiln does not record` };
  return { why: `the image version has no ${tagName} tag` };
}

export function githubRunnerCompliance(input: {
  /** The image version's kiln-runner-version tag. */
  installedTag: string | undefined;
  /** The latest actions/runner release; undefined when it could not be read. */
  latest: RunnerReleaseInfo | undefined;
  now: string;
}): RunnerCompliance {
  const { version: installed, why } = recorded(input.installedTag, RUNNER_VERSION_TAG, 'runner');
  if (!installed) return { state: 'unknown', reason: why };
  const { latest } = input;
  if (!latest || !isGalleryVersion(latest.version))
    return { state: 'unknown', installed, reason: 'the latest runner release is not known' };
  if (compareVersions(installed, latest.version) >= 0)
    return { state: 'current', installed, latest: latest.version, reason: 'the latest release' };
  if (!latest.publishedAt)
    return {
      state: 'updateDue',
      installed,
      latest: latest.version,
      reason: `older than ${latest.version}, whose release date is not known`,
    };
  const deadline = runnerUpdateDeadline(latest.publishedAt);
  const daysLeft = runnerDaysLeft(latest.publishedAt, input.now);
  const refused = Date.parse(input.now) >= Date.parse(deadline);
  return {
    state: refused ? 'refused' : 'updateDue',
    installed,
    latest: latest.version,
    deadline,
    daysLeft,
    reason: refused
      ? `GitHub no longer sends jobs to it: ${latest.version} came out more than ${GITHUB_RUNNER_UPDATE_DAYS} days ago`
      : `older than ${latest.version}: GitHub stops sending it jobs ${GITHUB_RUNNER_UPDATE_DAYS} days after that release at the latest`,
  };
}

export interface AgentCompliance {
  /** `configured`: the version AGENT_VERSION names. `notConfigured`: another one. `unknown`: kiln cannot tell. */
  state: 'configured' | 'notConfigured' | 'unknown';
  installed?: string;
  configured?: string;
  reason: string;
}

export function adoAgentCompliance(input: {
  /** The image version's kiln-agent-version tag. */
  installedTag: string | undefined;
  /** AGENT_VERSION ('' when unset: the template's default, whose version kiln does not know). */
  configured: string;
}): AgentCompliance {
  const { version: installed, why } = recorded(input.installedTag, AGENT_VERSION_TAG, 'agent');
  if (!installed) return { state: 'unknown', reason: why };
  if (!input.configured)
    return {
      state: 'unknown',
      installed,
      reason: "AGENT_VERSION is not set: kiln does not know which version the template's default is",
    };
  if (input.configured === installed)
    return { state: 'configured', installed, configured: input.configured, reason: 'as configured' };
  return {
    state: 'notConfigured',
    installed,
    configured: input.configured,
    reason: `AGENT_VERSION is ${input.configured}`,
  };
}

export type ComplianceState = RunnerCompliance['state'] | AgentCompliance['state'];

const SEVERITY: Record<ComplianceState, number> = {
  refused: 4,
  updateDue: 3,
  notConfigured: 3,
  unknown: 2,
  current: 1,
  configured: 1,
};

/** The state that needs attention first among several (a scale set running several image versions). */
export function worstCompliance(states: ComplianceState[]): ComplianceState | undefined {
  return [...states].sort((a, b) => SEVERITY[b] - SEVERITY[a])[0];
}
