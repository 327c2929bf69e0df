/**
 * The fake cloud's Compute Gallery and Packer builds: a version PUT replicates to each target region
 * for `latency.replication` minutes (a region may fail), excludeFromLatest (S4 judged), deletes (S3
 * judged), and the Container Apps job executions that build an image for `buildMinutes` as the Packer
 * job's identity (S5 judged).
 */
import type { ImageKind } from '../scenario/types.js';
import type { FakeIdentity } from './access.js';
import { fakeSoftwareReport, softwareReportMarkdown } from './software-reports.js';
import { judgeMadeLatest, judgeSecondBuild, judgeVersionDelete } from './world-judge.js';
import { WorldInstances } from './world-instances.js';
import {
  MINUTE,
  regionDisplay,
  regionKey,
  type AsyncOperation,
  type RegionReplication,
  type TargetRegion,
  type WorldExecution,
  type WorldGalleryVersion,
} from './world-types.js';

export abstract class WorldGallery extends WorldInstances {
  // ---------------------------------------------------------------- gallery

  /** PUT of a new version (or of an existing one: an update of its publishing profile). */
  createOrUpdateVersion(
    kind: ImageKind,
    name: string,
    spec: {
      location: string;
      targetRegions: TargetRegion[];
      excludeFromLatest: boolean;
      endOfLifeDate?: string;
      sourceId?: string;
      tags: Record<string, string>;
      replicaCount: number;
      storageAccountType: string;
      /** Outside publications may say whether instances booted on it register. */
      unhealthy?: boolean;
    },
    op: AsyncOperation,
    failRegions: Set<string>,
  ): { version: WorldGalleryVersion; created: boolean } {
    const key = this.versionKey(kind, name);
    const existing = this.versions.get(key);
    const now = this.clock.nowMs();
    const version: WorldGalleryVersion = existing ?? {
      kind,
      definition: this.names.definitions[kind],
      name,
      location: spec.location,
      tags: spec.tags,
      targetRegions: [],
      replicaCount: spec.replicaCount,
      storageAccountType: spec.storageAccountType,
      excludeFromLatest: spec.excludeFromLatest,
      endOfLifeDate: spec.endOfLifeDate,
      sourceId: spec.sourceId,
      publishedDate: now,
      provisioningState: 'Creating',
      replication: [],
      createdInRun: true,
      everLatest: false,
      ...(spec.unhealthy !== undefined ? { unhealthy: spec.unhealthy } : {}),
    };
    this.setExcludeFromLatest(version, spec.excludeFromLatest);
    if (existing) {
      version.provisioningState = 'Updating';
      version.endOfLifeDate = spec.endOfLifeDate ?? version.endOfLifeDate;
      version.tags = spec.tags;
    }
    this.versions.set(key, version);
    this.event('arm', `${existing ? 'updating' : 'creating'} gallery version ${version.definition}/${name}`);
    this.setTargetRegions(version, spec.targetRegions, op, failRegions);
    return { version, created: !existing };
  }

  /** Replaces the target regions; new regions replicate for `latency.replication` minutes. */
  setTargetRegions(
    version: WorldGalleryVersion,
    regions: TargetRegion[],
    op: AsyncOperation,
    failRegions: Set<string>,
  ): void {
    const now = this.clock.nowMs();
    const minutes = this.scenario.latency.replication;
    version.targetRegions = regions.map((r) => ({ ...r }));
    const keep = new Set(regions.map((r) => regionKey(r.name)));
    version.replication = version.replication.filter((r) => keep.has(regionKey(r.region)));
    const started: RegionReplication[] = [];
    for (const r of regions) {
      const existing = version.replication.find((x) => regionKey(x.region) === regionKey(r.name));
      if (existing && existing.state !== 'Failed') continue;
      const rep: RegionReplication = {
        region: r.name,
        state: 'Replicating',
        startedAt: now,
        doneAt: now + minutes * MINUTE,
        details: '',
      };
      if (existing) version.replication.splice(version.replication.indexOf(existing), 1);
      version.replication.push(rep);
      started.push(rep);
    }
    if (started.length === 0) {
      version.provisioningState = version.replication.some((r) => r.state === 'Failed')
        ? 'Failed'
        : 'Succeeded';
      this.completeOperationAfter(op, 0);
      return;
    }
    if (version.provisioningState === 'Succeeded') version.provisioningState = 'Updating';
    this.clock.after(
      minutes,
      () => {
        for (const rep of started) {
          if (!version.replication.includes(rep)) continue;
          if (failRegions.has(regionKey(rep.region))) {
            rep.state = 'Failed';
            rep.details = `Replication to ${regionDisplay(rep.region)} failed: OperationTimeout`;
            this.event('arm', `replication of ${version.definition}/${version.name} to ${rep.region} FAILED`);
          } else {
            rep.state = 'Completed';
            this.event('arm', `replicated ${version.definition}/${version.name} to ${rep.region}`);
          }
        }
        if (version.provisioningState === 'Deleting') return;
        const failed = version.replication.some((r) => r.state === 'Failed');
        if (version.replication.every((r) => r.state !== 'Replicating'))
          version.provisioningState = failed ? 'Failed' : 'Succeeded';
      },
      `replicate ${version.name}`,
    );
    const anyFail = started.some((r) => failRegions.has(regionKey(r.region)));
    this.completeOperationAfter(
      op,
      minutes,
      anyFail
        ? { code: 'ReplicationFailed', message: 'Replication failed in one or more regions.' }
        : undefined,
    );
  }

  /** excludeFromLatest of the version and of its regions; S4: kiln never makes a bad version latest. */
  setExcludeFromLatest(version: WorldGalleryVersion, exclude: boolean): void {
    const becomesLatest = !exclude && (version.excludeFromLatest || !version.everLatest);
    version.excludeFromLatest = exclude;
    for (const t of version.targetRegions) t.excludeFromLatest = exclude;
    if (exclude) return;
    version.everLatest = true;
    if (becomesLatest) judgeMadeLatest(this, version);
  }

  deleteVersion(version: WorldGalleryVersion): void {
    const key = this.versionKey(version.kind, version.name);
    const users = judgeVersionDelete(this, version);
    this.versions.delete(key);
    // Its replicas go with it, finished or not: a replication still running stops here.
    const stopped = version.replication.filter((r) => r.state === 'Replicating').map((r) => r.region);
    version.replication = [];
    version.provisioningState = 'Deleting';
    const subject = `${version.definition}/${version.name}`;
    this.ledger.deleted.galleryVersions.push(subject);
    this.event(
      'arm',
      `deleted gallery version ${subject}${stopped.length > 0 ? ` (replication to ${stopped.join(', ')} stopped)` : ''}${users.length > 0 ? ' (STILL REFERENCED by a scale set)' : ''}${this.kilnActs ? '' : ' — outside kiln'}`,
    );
  }

  // ---------------------------------------------------------------- Container Apps job executions

  startExecution(jobName: string, template: unknown, fail: boolean): WorldExecution {
    const kind = inferKind(template);
    judgeSecondBuild(this, kind);
    const name = `${jobName}-${Math.floor(this.random() * 36 ** 7)
      .toString(36)
      .padStart(7, '0')}`;
    const exec: WorldExecution = {
      name,
      jobName,
      kind,
      status: 'Running',
      startTime: this.clock.nowMs(),
      template,
    };
    this.executions.set(name, exec);
    const cfg = this.scenario.images[kind];
    // Packer runs as the job's identity: Container Apps pulls the job's image from the registry with
    // it, then Packer creates its build VM in the build resource group.
    const packer = this.access.identity('packer');
    const rg = (name: string) => `/subscriptions/${this.names.subscriptionId}/resourceGroups/${name}`;
    const buildVm = `${rg(this.names.buildResourceGroup)}/providers/Microsoft.Compute/virtualMachines/pkrvm${name.slice(-7)}`;
    const refused =
      this.access.authorize(packer, 'Microsoft.ContainerRegistry/registries/pull/read', this.registryId()) ??
      this.access.authorize(packer, 'Microsoft.Compute/virtualMachines/write', buildVm);
    if (refused) {
      this.event('arm', `packer job execution ${name} started (${kind}): ${refused.code}`);
      this.clock.after(
        1,
        () => {
          if (exec.status !== 'Running') return;
          exec.status = 'Failed';
          exec.endTime = this.clock.nowMs();
          this.event('arm', `packer job execution ${name} Failed (${refused.code})`);
        },
        `execution ${name}`,
      );
      return exec;
    }
    this.event('arm', `packer job execution ${name} started (${kind}, ${cfg.buildMinutes} min)`);
    this.clock.after(
      cfg.buildMinutes,
      () => {
        if (exec.status !== 'Running') return;
        exec.status = cfg.buildFails || fail ? 'Failed' : 'Succeeded';
        exec.endTime = this.clock.nowMs();
        if (exec.status === 'Succeeded') {
          const env = templateEnv(template);
          const imageId = `${rg(env.PACKER_IMAGE_RG ?? this.names.imagesResourceGroup)}/providers/Microsoft.Compute/images/${env.PKR_VAR_managed_image_name ?? name}`;
          if (this.access.authorize(packer, 'Microsoft.Compute/images/write', imageId)) {
            exec.status = 'Failed';
            this.event(
              'arm',
              `packer job execution ${name}: writing its managed image was refused (AuthorizationFailed)`,
            );
          } else if (env.PKR_VAR_managed_image_name && env.PACKER_IMAGE_RG) {
            this.managedImages.add(imageId.toLowerCase());
          }
        }
        this.event('arm', `packer job execution ${name} ${exec.status}`);
        if (exec.status === 'Succeeded') this.storeBuildReport(exec, templateEnv(template), packer);
      },
      `execution ${name}`,
    );
    return exec;
  }

  /**
   * What packer/job/entrypoint.sh does after a successful build: stores the build's software report
   * in the folder KILN_SOFTWARE_REPORT_URL names, as the Packer job's identity, the Markdown first and
   * the JSON last, each tried three times (a `blobs putBlob` fault takes one try). A refusal, a
   * missing container or three failed tries leave the version without a report; the build stands.
   */
  private storeBuildReport(exec: WorldExecution, env: Record<string, string>, packer: FakeIdentity): void {
    const url = env.KILN_SOFTWARE_REPORT_URL;
    if (!url) return;
    const where = reportFolder(url);
    const notStored = (why: string) =>
      this.event(
        'blobs',
        `packer job execution ${exec.name}: WARNING: the software report was not stored: ${why}`,
      );
    if (!where || where.host.toLowerCase() !== `${this.names.storageAccountName}.blob`)
      return notStored(`${url} is not a folder of this world's storage account`);
    const report = fakeSoftwareReport(exec.kind, {
      generatedAt: this.isoNow(),
      agentVersion: exec.kind === 'linux' ? env.PKR_VAR_runner_version : env.PKR_VAR_agent_version,
      changes: this.scenario.images[exec.kind].changes,
    });
    const files: [name: string, body: string, type: string][] = [
      ['software.md', softwareReportMarkdown(report), 'text/markdown'],
      ['software.json', JSON.stringify(report, null, 2), 'application/json'],
    ];
    const action = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write';
    for (const [file, body, type] of files) {
      const blob = `${where.folder}/${file}`;
      let stored = false;
      for (let attempt = 1; attempt <= 3 && !stored; attempt++) {
        if (this.uploadFails()) continue;
        if (!this.access.authorizeStorage(packer, action, this.containerId(where.container), 'data'))
          return notStored(`uploading ${blob} was refused (AuthorizationPermissionMismatch)`);
        if (!this.blobs.hasContainer(where.container))
          return notStored(`the container ${where.container} does not exist (ContainerNotFound)`);
        this.blobs.put(where.container, blob, Buffer.from(body), type);
        stored = true;
      }
      if (!stored) return notStored(`uploading ${blob} failed 3 times`);
    }
    this.event(
      'blobs',
      `packer job execution ${exec.name} stored its software report ${where.folder}/software.json`,
    );
  }

  stopExecution(exec: WorldExecution): void {
    if (exec.status !== 'Running') return;
    exec.status = 'Stopped';
    exec.endTime = this.clock.nowMs();
    this.event('arm', `packer job execution ${exec.name} stopped`);
  }
}

/**
 * `https://<account>.blob.<suffix>[:port]/<container>/<folder>` as its parts: the account's blob
 * host (`<account>.blob`, without the cloud's suffix), the container and the folder within it.
 */
function reportFolder(url: string): { host: string; container: string; folder: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const [container, ...folder] = parsed.pathname.split('/').filter(Boolean);
  const host = /^([^.]+\.blob)\./i.exec(parsed.hostname)?.[1];
  if (!host || !container || folder.length === 0) return undefined;
  return { host, container, folder: folder.map(decodeURIComponent).join('/') };
}

/** The environment variables of an execution template's containers. */
export function templateEnv(template: unknown): Record<string, string> {
  const t = template as { containers?: { env?: { name?: string; value?: string }[] }[] } | undefined;
  const env: Record<string, string> = {};
  for (const c of t?.containers ?? [])
    for (const e of c.env ?? []) if (e.name && e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** Which image a Packer execution builds: an env value or argument naming linux/windows. */
export function inferKind(template: unknown): ImageKind {
  const t = template as
    | { containers?: { env?: { name?: string; value?: string }[]; args?: string[]; command?: string[] }[] }
    | undefined;
  for (const c of t?.containers ?? []) {
    for (const e of c.env ?? []) {
      const v = (e.value ?? '').toLowerCase();
      if (v === 'linux' || v === 'windows') return v;
    }
  }
  const text = JSON.stringify(template ?? {}).toLowerCase();
  if (text.includes('windows')) return 'windows';
  return 'linux';
}
