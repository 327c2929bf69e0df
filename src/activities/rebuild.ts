/**
 * Activities of the image pipeline: read the gallery, start and watch the Packer job, publish the
 * built image as a gallery version, change its regions, tags and latest flag, prune, and read the
 * latest GitHub runner release. Each starts slow work and returns; the orchestration polls.
 */
import {
  buildJobTemplate,
  daysBetween,
  freeVersionName,
  newestPromoted,
  type ImageKind,
} from '../domain/release.js';
import { regionKey } from '../domain/regions.js';
import { softwareReportBlobs } from '../domain/software-report.js';
import { versionOfImageReference } from '../domain/rollout.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export interface GalleryVersionSummary {
  name: string;
  excludeFromLatest: boolean;
  tags: Record<string, string>;
  provisioningState?: string;
  publishedDate?: string;
}

export interface ReadGalleryInput {
  definition: string;
}

export interface GalleryState {
  versions: GalleryVersionSummary[];
  /** Versions any scale set of the subscription uses, in its model or on an instance (S3). */
  referenced: string[];
}

export type ReadGalleryOutput = ActivityResult<GalleryState>;

export function createReadGalleryActivity({ arm, metrics, now }: ActivityDeps) {
  return (input: ReadGalleryInput): Promise<ReadGalleryOutput> =>
    attempt(`read gallery versions of ${input.definition}`, async () => {
      const [versions, referenced] = await Promise.all([
        arm.listImageVersions(input.definition),
        referencedVersions(arm, input.definition),
      ]);
      const newest = newestPromoted(versions);
      if (newest?.publishedDate)
        metrics.imageAge(input.definition, daysBetween(newest.publishedDate, now().toISOString()));
      return {
        versions: versions.map((v) => ({
          name: v.name,
          excludeFromLatest: v.excludeFromLatest,
          tags: v.tags,
          provisioningState: v.provisioningState,
          publishedDate: v.publishedDate,
        })),
        referenced: [...referenced],
      };
    });
}

/**
 * The versions of the definition that any scale set of the subscription uses, in its model or on an
 * instance (S3). Every list must be read whole: one that fails fails the answer (an unknown is "in
 * use", never "unused").
 */
async function referencedVersions(arm: ActivityDeps['arm'], definition: string): Promise<Set<string>> {
  const referenced = new Set<string>();
  const mine = (id?: string) => id && new RegExp(`/images/${definition}/versions/`, 'i').test(id);
  for (const scaleSet of await arm.listAllScaleSets()) {
    if (mine(scaleSet.imageReferenceId)) referenced.add(versionOfImageReference(scaleSet.imageReferenceId)!);
    for (const instance of await arm.listInstances(scaleSet.id)) {
      if (mine(instance.imageReferenceId))
        referenced.add(versionOfImageReference(instance.imageReferenceId)!);
    }
  }
  return referenced;
}

export interface StartBuildInput {
  image: ImageKind;
  /**
   * The gallery image definition the version is for: the build stores its software report under it
   * (`<definition>/<version>/…`). Absent: the image's definition in the settings.
   */
  definition?: string;
  version: string;
  runId: string;
  runnerVersion?: string;
  runnerSha256?: string;
  agentVersion?: string;
}

export interface BuildStarted {
  executionName: string;
  managedImageId: string;
}

export type StartBuildOutput = ActivityResult<BuildStarted>;

/** Execution states in which an earlier start of the same build is still the build (not a failure to redo). */
const LIVE_OR_DONE = new Set(['running', 'processing', 'succeeded']);

/**
 * Starts one execution of the Packer job. The job signs in with its own identity: no secret in the
 * request. Idempotent: a retry after a start whose answer was lost finds the execution that start
 * made (by run id and managed image name in its template) instead of starting a second build.
 */
export function createStartBuildActivity({ arm, settings }: ActivityDeps) {
  return (input: StartBuildInput): Promise<StartBuildOutput> =>
    attempt(`start the ${input.image} Packer build`, async () => {
      const { packer } = settings;
      const buildRegion = settings.gallery.targetRegions[0]?.name;
      if (!packer.jobId || !packer.jobImage || !packer.imageResourceGroup || !buildRegion) {
        throw new Error(
          'PACKER_JOB_ID, PACKER_JOB_IMAGE, PACKER_IMAGE_RG and TARGET_REGIONS must be set to build images',
        );
      }
      const managedImageName = `kiln-${input.image}-${input.version}`;
      const template = buildJobTemplate({
        image: input.image,
        containerImage: packer.jobImage,
        subscriptionId: settings.subscriptionId,
        buildRegion,
        managedImageResourceGroup: packer.imageResourceGroup,
        managedImageName,
        tempResourceGroup: packer.tempResourceGroup,
        vmSize: packer.vmSize,
        tagOrg: packer.tagOrg,
        tagEnv: packer.tagEnv,
        jobClientId: packer.jobClientId,
        runId: input.runId,
        runnerVersion: input.runnerVersion,
        runnerSha256: input.runnerSha256,
        agentVersion: input.agentVersion ?? (packer.agentVersion || undefined),
        softwareReportUrl: softwareReportUrl(
          settings,
          input.definition ?? settings.gallery.definitions[input.image],
          input.version,
        ),
      });
      const earlier = await arm.findJobExecution(packer.jobId, {
        KILN_RUN_ID: input.runId,
        PKR_VAR_managed_image_name: managedImageName,
      });
      const executionName =
        earlier && LIVE_OR_DONE.has(earlier.status.toLowerCase())
          ? earlier.name
          : (await arm.startJobExecution(packer.jobId, template)).name;
      return {
        executionName,
        managedImageId: `/subscriptions/${settings.subscriptionId}/resourceGroups/${packer.imageResourceGroup}/providers/Microsoft.Compute/images/${managedImageName}`,
      };
    });
}

/**
 * The blob URL of the folder the build's software report goes to (the JSON, the Markdown and the
 * SBOM beside each other, softwareReportBlobs' names), or undefined when kiln has no reports store.
 */
function softwareReportUrl(
  settings: ActivityDeps['settings'],
  definition: string,
  version: string,
): string | undefined {
  const reports = settings.softwareReports;
  if (!reports) return undefined;
  const folder = softwareReportBlobs(definition, version).json.replace(/\/[^/]+$/, '');
  return `${reports.endpoint}/${reports.container}/${folder}`;
}

export interface BuildStatusInput {
  executionName: string;
}

export type BuildStatusOutput = ActivityResult<{ status: string }>;

export function createGetBuildStatusActivity({ arm, settings }: ActivityDeps) {
  return (input: BuildStatusInput): Promise<BuildStatusOutput> =>
    attempt(`read Packer execution ${input.executionName}`, async () => {
      const execution = await arm.getJobExecution(settings.packer.jobId, input.executionName);
      return { status: execution?.status ?? 'Unknown' };
    });
}

/** Stops the execution if it still runs (idempotent: one that ended, or is gone, is left as it is). */
export function createStopBuildActivity({ arm, settings }: ActivityDeps) {
  return (input: BuildStatusInput): Promise<ActivityResult<null>> =>
    attempt(`stop Packer execution ${input.executionName}`, async () => {
      const execution = await arm.getJobExecution(settings.packer.jobId, input.executionName);
      if (!execution || ENDED.has(execution.status.toLowerCase())) return null;
      await arm.stopJobExecution(settings.packer.jobId, input.executionName);
      return null;
    });
}

const ENDED = new Set(['succeeded', 'failed', 'stopped', 'degraded']);

export interface PublishVersionInput {
  definition: string;
  version: string;
  managedImageId: string;
  tags: Record<string, string>;
  endOfLifeDate: string;
  /** Where the version is first published: the build region (the gallery's, first) and the canary's. */
  regions: string[];
}

/** The name the version was published under. */
export type PublishVersionOutput = ActivityResult<{ version: string }>;

/**
 * Creates the gallery version where it is built and proven only, excluded from latest (it is not
 * proven yet). The name was chosen when the rebuild began, hours ago: if someone published a version
 * under it since, the next free name of the month is used instead (a version's source cannot change,
 * and overwriting another's version would be worse). A retry finds its own version (tag kiln-run).
 */
export function createPublishVersionActivity({ arm, settings }: ActivityDeps) {
  return (input: PublishVersionInput): Promise<PublishVersionOutput> =>
    attempt(`publish gallery version ${input.definition}/${input.version}`, async () => {
      const build = settings.gallery.targetRegions[0]!;
      let version = input.version;
      const taken = await arm.getImageVersion(input.definition, version);
      if (taken && taken.tags['kiln-run'] !== input.tags['kiln-run']) {
        const names = (await arm.listImageVersions(input.definition)).map((v) => v.name);
        version = freeVersionName(names, input.version);
      }
      await arm.startCreateImageVersion(input.definition, version, {
        location: build.name,
        sourceId: input.managedImageId,
        targetRegions: targetRegions(settings, input.regions, true),
        excludeFromLatest: true,
        endOfLifeDate: input.endOfLifeDate,
        tags: input.tags,
      });
      return { version };
    });
}

export interface UpdateVersionInput {
  definition: string;
  version: string;
  excludeFromLatest?: boolean;
  /** Replicate to exactly these regions (the target regions of the settings, and the canary's). */
  regions?: string[];
}

export function createUpdateVersionActivity({ arm, settings }: ActivityDeps) {
  return (input: UpdateVersionInput): Promise<ActivityResult<null>> =>
    attempt(`update gallery version ${input.definition}/${input.version}`, async () => {
      const exclude = input.excludeFromLatest;
      await arm.startUpdateImageVersion(input.definition, input.version, {
        ...(exclude !== undefined ? { excludeFromLatest: exclude } : {}),
        ...(input.regions ? { targetRegions: targetRegions(settings, input.regions, exclude ?? true) } : {}),
      });
      return null;
    });
}

/** Target regions with the replica counts of the settings (1 for a region the settings do not list). */
function targetRegions(settings: ActivityDeps['settings'], regions: string[], excludeFromLatest: boolean) {
  return regions.map((name) => ({
    name,
    replicas:
      settings.gallery.targetRegions.find((r) => regionKey(r.name) === regionKey(name))?.replicas ?? 1,
    excludeFromLatest,
  }));
}

export interface TagVersionInput {
  definition: string;
  version: string;
  tags: Record<string, string>;
}

/** Merges tags into the version (kiln-state records where the pipeline stands). */
export function createTagVersionActivity({ arm }: ActivityDeps) {
  return (input: TagVersionInput): Promise<ActivityResult<null>> =>
    attempt(`tag gallery version ${input.definition}/${input.version}`, async () => {
      await arm.setImageVersionTags(input.definition, input.version, input.tags);
      return null;
    });
}

export interface DeleteVersionsInput {
  definition: string;
  versions: string[];
  /** Pruning: look again right before deleting, and keep any version a scale set uses by now (S3). */
  unusedOnly?: boolean;
  /**
   * A run cleaning up what it made: delete only a version tagged as this run's (kiln-run); one it
   * cannot read is not known to be its own and is kept.
   */
  ownRun?: string;
}

/** The versions deleted. */
export function createDeleteVersionsActivity({ arm }: ActivityDeps) {
  return (input: DeleteVersionsInput): Promise<ActivityResult<string[]>> =>
    attempt(`delete gallery versions ${input.versions.join(', ')} of ${input.definition}`, async () => {
      const inUse = input.unusedOnly ? await referencedVersions(arm, input.definition) : new Set<string>();
      const deleted: string[] = [];
      for (const version of input.versions.filter((v) => !inUse.has(v))) {
        if (input.ownRun) {
          const found = await arm.getImageVersion(input.definition, version);
          if (!found || found.tags['kiln-run'] !== input.ownRun) continue;
        }
        await arm.startDeleteImageVersion(input.definition, version);
        deleted.push(version);
      }
      return deleted;
    });
}

export function createDeleteManagedImageActivity({ arm }: ActivityDeps) {
  return (input: { managedImageId: string }): Promise<ActivityResult<null>> =>
    attempt(`delete managed image ${input.managedImageId}`, async () => {
      await arm.startDeleteManagedImage(input.managedImageId);
      return null;
    });
}

export interface RunnerReleaseState {
  latest: string;
  publishedAt?: string;
  linuxX64Sha256?: string;
}

export function createReadRunnerReleaseActivity({ github }: ActivityDeps) {
  return (): Promise<ActivityResult<RunnerReleaseState | null>> =>
    attempt('read the latest GitHub Actions runner release', async () => {
      if (!github) return null;
      const release = await github.getLatestRunnerRelease();
      return {
        latest: release.version,
        publishedAt: release.publishedAt,
        linuxX64Sha256: release.linuxX64Sha256,
      };
    });
}
