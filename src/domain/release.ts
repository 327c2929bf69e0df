/**
 * Release decisions of the image pipeline, pure: the name of a new gallery version, the Packer job's
 * template, which old versions may be pruned, and when a new GitHub runner release calls for a Linux
 * rebuild. Everything takes `now` and observed state as arguments.
 */
import { compareVersions, isGalleryVersion, newestVersion } from './versions.js';

export type ImageKind = 'linux' | 'windows';

/** The tag on versions kiln publishes that says where the pipeline stands with them. */
export const KILN_STATE_TAG = 'kiln-state';
/** Versions kiln is still building, publishing or proving: its own work in progress. */
export const KILN_IN_PROGRESS = new Set([
  'building',
  'publishing',
  'canary',
  'awaitingApproval',
  'replicating',
  'promoting',
]);
/** Versions no other rollout takes: kiln's work in progress, and the ones its canary rejected. */
export const KILN_KEEPS_OUT = new Set([...KILN_IN_PROGRESS, 'rejected', 'unproven']);

/**
 * Version names are `YEAR.MONTH.N`: N counts the versions published in that month, so names are
 * valid gallery versions (three integers), sort in publishing order, and the first rebuild of
 * December 2026 is 2026.12.1. Derived from the gallery's versions as read in the orchestration's
 * history, so a replay names the same version.
 */
export function nextVersionName(existing: string[], now: string): string {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  const names = existing.filter(isGalleryVersion);
  // A version of a later month than now (clock skew, manual naming) must not sort above ours: ours
  // then follows the newest version of all, a name no existing version can have.
  const newest = newestVersion(names);
  if (newest && compareVersions(newest, `${year}.${month + 1}.0`) >= 0) {
    const [y, m, n] = newest.split('.').map(Number) as [number, number, number];
    return `${y}.${m}.${n + 1}`;
  }
  let highest = 0;
  for (const name of names) {
    const [y, m, n] = name.split('.').map(Number) as [number, number, number];
    if (y === year && m === month) highest = Math.max(highest, n);
  }
  return `${year}.${month}.${highest + 1}`;
}

/**
 * The name to publish under, decided right before publishing: the name chosen when the rebuild began,
 * unless someone published a version under it since; then the next free name of the same month.
 */
export function freeVersionName(existing: string[], preferred: string): string {
  if (!existing.includes(preferred)) return preferred;
  const [year, month] = preferred.split('.');
  let highest = 0;
  for (const name of existing) {
    if (!isGalleryVersion(name)) continue;
    const [y, m, n] = name.split('.');
    if (y === year && m === month) highest = Math.max(highest, Number(n));
  }
  return `${year}.${month}.${highest + 1}`;
}

/** The period a rebuild belongs to (one rebuild per image and period: S5). */
export function rebuildPeriod(now: string): string {
  return now.slice(0, 7);
}

export interface JobTemplateInput {
  image: ImageKind;
  containerImage: string;
  subscriptionId: string;
  buildRegion: string;
  managedImageResourceGroup: string;
  managedImageName: string;
  tempResourceGroup: string;
  vmSize: string;
  tagOrg: string;
  tagEnv: string;
  /** The Packer job's own identity (the container signs in with it; no secret travels). */
  jobClientId: string;
  runId: string;
  runnerVersion?: string;
  runnerSha256?: string;
  agentVersion?: string;
  /**
   * Where the job stores the build's software report (docs/software-report.md): the blob URL of the
   * version's folder, `<blob endpoint>/<container>/<definition>/<version>`. Absent: kiln reads no
   * reports (KILN_BLOB_ENDPOINT is empty) and the job stores none.
   */
  softwareReportUrl?: string;
}

export interface JobTemplate {
  containers: {
    name: string;
    image: string;
    resources: { cpu: number; memory: string };
    env: { name: string; value: string }[];
  }[];
}

/**
 * The complete template of one Packer execution. A start request replaces the job's whole template
 * (cloud-apis.md §3), so every variable the job's own definition sets is sent again here.
 */
export function buildJobTemplate(input: JobTemplateInput): JobTemplate {
  const env: Record<string, string> = {
    KILN_IMAGE: input.image,
    KILN_RUN_ID: input.runId,
    ARM_SUBSCRIPTION_ID: input.subscriptionId,
    PACKER_LOCATION: input.buildRegion,
    PACKER_IMAGE_RG: input.managedImageResourceGroup,
    PACKER_TEMP_RG: input.tempResourceGroup,
    PACKER_VM_SIZE: input.vmSize,
    ORG: input.tagOrg,
    ENV: input.tagEnv,
    PKR_VAR_managed_image_name: input.managedImageName,
  };
  if (input.jobClientId) env.AZURE_CLIENT_ID = input.jobClientId;
  if (input.image === 'linux' && input.runnerVersion) {
    env.PKR_VAR_runner_version = input.runnerVersion;
    if (input.runnerSha256) env.PKR_VAR_runner_sha256 = input.runnerSha256;
  }
  if (input.image === 'windows' && input.agentVersion) env.PKR_VAR_agent_version = input.agentVersion;
  if (input.softwareReportUrl) env.KILN_SOFTWARE_REPORT_URL = input.softwareReportUrl;
  return {
    containers: [
      {
        name: 'packer',
        image: input.containerImage,
        resources: { cpu: 2, memory: '4Gi' },
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
      },
    ],
  };
}
/**
 * Versions that may be deleted (S3): never one of the newest `keep`, never one referenced by a scale
 * set model or instance, never one protected (the version this run publishes or rolls out).
 */
export function planPrune(input: {
  versions: string[];
  keep: number;
  referenced: string[];
  protected: string[];
}): string[] {
  const sorted = [...input.versions].filter(isGalleryVersion).sort(compareVersions).reverse();
  const keep = new Set([...sorted.slice(0, input.keep), ...input.referenced, ...input.protected]);
  return sorted.filter((v) => !keep.has(v)).reverse();
}

/** The newest version that is promoted (not excluded from latest): what new instances of the image get. */
export function newestPromoted<V extends { name: string; excludeFromLatest: boolean }>(
  versions: readonly V[],
): V | undefined {
  return versions
    .filter((v) => !v.excludeFromLatest && isGalleryVersion(v.name))
    .sort((a, b) => compareVersions(b.name, a.name))[0];
}

/**
 * GitHub stops sending jobs to a self-hosted runner that was not updated within 30 days of a newer
 * release being made available (docs.github.com, "Controlling runner software updates").
 */
export const GITHUB_RUNNER_UPDATE_DAYS = 30;

const DAY_MS = 24 * 3600_000;

/** Whole and fractional days from `from` to `to` (ISO 8601), to two decimals. */
export function daysBetween(from: string, to: string): number {
  return Math.round(((Date.parse(to) - Date.parse(from)) / DAY_MS) * 100) / 100;
}

/**
 * GitHub refuses runners left un-updated for 30 days after a newer release; kiln rebuilds the Linux
 * image once a newer release than the one baked in has been out for `maxAgeDays`.
 */
export function runnerRefreshDue(input: {
  baked?: string;
  latest: string;
  latestPublishedAt?: string;
  now: string;
  maxAgeDays: number;
}): boolean {
  if (!isGalleryVersion(input.latest)) return false;
  if (input.baked && isGalleryVersion(input.baked) && compareVersions(input.baked, input.latest) >= 0)
    return false;
  if (!input.latestPublishedAt) return true;
  return Date.parse(input.now) - Date.parse(input.latestPublishedAt) >= input.maxAgeDays * DAY_MS;
}
