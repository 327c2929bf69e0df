/**
 * kiln's ARM client: thin typed wrappers over @azure/arm-compute 25 (scale sets, scale set VMs,
 * gallery image versions), @azure/arm-resources (scale sets by tag) and @azure/arm-appcontainers
 * (the Packer job). Endpoint and token audience come from settings (sovereign clouds, and the local
 * fake cloud). Long-running operations that take minutes (reimage, manual upgrade, delete,
 * version create/replication) return once ARM accepted them; the orchestration polls.
 *
 * A 404 means "gone" only where one thing was asked for (getScaleSet, getImageVersion, a delete).
 * A list that fails throws, and so does a list page without its `value` list (the older SDKs,
 * arm-resources and arm-appcontainers, would read it as an empty page).
 */
import { ContainerAppsAPIClient, type JobExecution } from '@azure/arm-appcontainers';
import {
  ComputeManagementClient,
  type GalleryImageVersion,
  type VirtualMachineScaleSet,
  type VirtualMachineScaleSetVM,
} from '@azure/arm-compute';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../../config/load-settings.js';
import { ARM_RETRY, CLIENT_TUNING } from '../../retry-policy.js';
import { describeFailure, toClientError } from '../client-error.js';
import { TransientError } from '../errors.js';
import type {
  ApiObserver,
  CreateImageVersionRequest,
  FullArmClient,
  GalleryImageVersionInfo,
  GalleryTargetRegion,
  JobContainer,
  JobExecutionInfo,
  ScaleSet,
  ScaleSetInstance,
} from '../types.js';
import { parseResourceId, resourceGroupOf } from './resource-id.js';

/*
 * Time bounds of one SDK call. Each call gets one AbortSignal.timeout(timeoutMs) that the SDKs'
 * retry policy honours across attempts, exponential backoffs (maxRetries, from retryBaseMs doubling,
 * capped at ARM_RETRY.maxRetryDelayMs), Retry-After waits (429/503, otherwise uncapped) and the polls
 * of a long-running operation awaited to its end: when it fires, the call fails as transient (an
 * aborted request is a network error). listScaleSetsByTag, listAllScaleSets and setImageVersionTags
 * make two calls in a row (a list or read, then reads in parallel or an update). The numbers and the
 * worst cases are in src/retry-policy.ts.
 */
export interface ArmClientOptions {
  /** All of one SDK call, retries included (CLIENT_REQUEST_TIMEOUT_MS in the app). */
  timeoutMs?: number;
  /** First backoff of the SDKs' retries, doubling with jitter (CLIENT_RETRY_BASE_MS in the app). */
  retryBaseMs?: number;
  /** Retries of a 408/429/5xx or network error (ARM_MAX_RETRIES in the app). */
  maxRetries?: number;
  /** Sees every attempt, retries included (kiln's metrics). */
  observer?: ApiObserver;
}

const SCALE_SET_TYPE = 'microsoft.compute/virtualmachinescalesets';

/**
 * What every generated ARM client needs to reach `settings.arm` (a sovereign cloud's endpoint and
 * audience, or the fake's): `modern` for clients from the current generator (arm-compute 25),
 * `classic` for the older ones, which build URLs from `$host` (`endpoint` alone would not move them).
 */
export function armClientOptions<R>(
  settings: Pick<Settings, 'arm'>,
  retryOptions: R,
  observer?: ApiObserver,
) {
  const endpoint = settings.arm.endpoint;
  const scopes = [settings.arm.audience];
  // After the retry policy: every attempt is a request ARM counts against its limits.
  const additionalPolicies = observer
    ? [{ policy: observingPolicy(observer), position: 'perRetry' as const }]
    : [];
  return {
    modern: { endpoint, credentials: { scopes }, retryOptions, additionalPolicies },
    classic: { endpoint, $host: endpoint, credentialScopes: scopes, retryOptions, additionalPolicies },
  };
}

/** Tells the observer how each attempt went: its answer (status, headers), or that none came. */
function observingPolicy(observer: ApiObserver): PipelinePolicy {
  return {
    name: 'kilnApiObserver',
    async sendRequest(request, next) {
      let response;
      try {
        response = await next(request);
      } catch (error) {
        observer.failure('arm');
        throw error;
      }
      observer.response('arm', response.status, response.headers);
      return response;
    },
  };
}

export function createArmClient(
  settings: Pick<Settings, 'subscriptionId' | 'arm' | 'gallery'>,
  credential: TokenCredential,
  options: ArmClientOptions = {},
): FullArmClient {
  const timeoutMs = options.timeoutMs ?? CLIENT_TUNING.clientRequestTimeoutMs;
  const clientOptions = armClientOptions(
    settings,
    {
      maxRetries: options.maxRetries ?? CLIENT_TUNING.clientMaxRetries.arm,
      retryDelayInMs: options.retryBaseMs ?? CLIENT_TUNING.clientRetryBaseMs,
      maxRetryDelayInMs: ARM_RETRY.maxRetryDelayMs,
    },
    options.observer,
  );
  const compute = new ComputeManagementClient(credential, settings.subscriptionId, clientOptions.modern);
  const resources = new ResourceManagementClient(credential, settings.subscriptionId, clientOptions.classic);
  const apps = new ContainerAppsAPIClient(credential, settings.subscriptionId, clientOptions.classic);
  const gallery = settings.gallery;
  const signal = () => AbortSignal.timeout(timeoutMs);

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toClientError(`arm ${operation}`, err);
    }
  }

  async function orUndefinedOn404<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (describeFailure(err).status === 404) return undefined;
      throw toClientError(`arm ${operation}`, err);
    }
  }

  function scaleSetName(id: string) {
    return parseResourceId(id, 'virtualMachineScaleSets');
  }

  /** Ids of the scale sets the resource list names for `filter`, every page checked. */
  async function listScaleSetIds(operation: string, filter: string): Promise<string[]> {
    return call(operation, async () => {
      const pages = pageCheck();
      const out: string[] = [];
      for await (const r of resources.resources.list({
        filter,
        abortSignal: signal(),
        onResponse: pages.onResponse,
      })) {
        if (r.id && r.type?.toLowerCase() === SCALE_SET_TYPE) out.push(r.id);
      }
      pages.check();
      return out;
    });
  }

  const client: FullArmClient = {
    async listScaleSetsByTag(tag) {
      const filter = `tagName eq '${odata(tag.name)}' and tagValue eq '${odata(tag.value)}'`;
      const ids = await listScaleSetIds(`listScaleSetsByTag ${tag.name}=${tag.value}`, filter);
      const sets = await Promise.all(ids.map((id) => client.getScaleSet(id)));
      // A scale set listed but gone (404) is dropped here: this list is the set kiln acts on, and one
      // missing only narrows what kiln touches. listAllScaleSets must not do that (see there).
      return sets.filter((s): s is ScaleSet => s !== undefined);
    },

    async getScaleSet(id) {
      const { resourceGroup, name } = scaleSetName(id);
      const vmss = await orUndefinedOn404(`getScaleSet ${name}`, () =>
        compute.virtualMachineScaleSets.get(resourceGroup, name, { abortSignal: signal() }),
      );
      return vmss ? toScaleSet(vmss, id) : undefined;
    },

    async listInstances(scaleSetId) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      return call(`listInstances ${name}`, async () => {
        const out: ScaleSetInstance[] = [];
        for await (const vm of compute.virtualMachineScaleSetVMs.list(resourceGroup, name, {
          expand: 'instanceView',
          abortSignal: signal(),
        })) {
          out.push(toInstance(vm));
        }
        return out;
      });
    },

    async getInstance(scaleSetId, instanceId) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      const vm = await orUndefinedOn404(`getInstance ${name}/${instanceId}`, () =>
        compute.virtualMachineScaleSetVMs.get(resourceGroup, name, instanceId, {
          expand: 'instanceView',
          abortSignal: signal(),
        }),
      );
      return vm ? toInstance(vm) : undefined;
    },

    async startReimage(scaleSetId, instanceIds) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      await call(`reimage ${name} [${instanceIds.join(',')}]`, () =>
        compute.virtualMachineScaleSets
          .reimage(resourceGroup, name, { vmScaleSetReimageInput: { instanceIds }, abortSignal: signal() })
          .submitted(),
      );
    },

    async setScaleSetImage(scaleSetId, imageReferenceId, options = {}) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      try {
        await compute.virtualMachineScaleSets.update(
          resourceGroup,
          name,
          { virtualMachineProfile: { storageProfile: { imageReference: { id: imageReferenceId } } } },
          {
            abortSignal: signal(),
            updateIntervalInMs: 2_000,
            ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}),
          },
        );
        return 'changed';
      } catch (err) {
        // The model changed since the caller read it: the caller decides again on a fresh read.
        if (options.ifMatch && describeFailure(err).status === 412) return 'conflict';
        throw toClientError(`arm setScaleSetImage ${name}`, err);
      }
    },

    async setCapacity(scaleSetId, capacity, options = {}) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      try {
        // Accepted is enough: the new instances provision in the background, and the autoscaler
        // counts them from the next look (a capacity PATCH is not waited for, as an upgrade is not).
        await compute.virtualMachineScaleSets
          .update(
            resourceGroup,
            name,
            { sku: { capacity } },
            { abortSignal: signal(), ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}) },
          )
          .submitted();
        return 'changed';
      } catch (err) {
        // The scale set changed since the caller read it: the caller decides again on a fresh read.
        if (options.ifMatch && describeFailure(err).status === 412) return 'conflict';
        throw toClientError(`arm setCapacity ${name} ${capacity}`, err);
      }
    },

    async startManualUpgrade(scaleSetId, instanceIds) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      await call(`manualUpgrade ${name} [${instanceIds.join(',')}]`, () =>
        compute.virtualMachineScaleSets
          .updateInstances(resourceGroup, name, { instanceIds }, { abortSignal: signal() })
          .submitted(),
      );
    },

    async startDeleteInstances(scaleSetId, instanceIds) {
      const { resourceGroup, name } = scaleSetName(scaleSetId);
      await call(`deleteInstances ${name} [${instanceIds.join(',')}]`, () =>
        compute.virtualMachineScaleSets
          .deleteInstances(resourceGroup, name, { instanceIds }, { abortSignal: signal() })
          .submitted(),
      );
    },

    async getImageVersion(definition, version, opts = {}) {
      const v = await orUndefinedOn404(`getImageVersion ${definition}/${version}`, () =>
        compute.galleryImageVersions.get(gallery.resourceGroup, gallery.name, definition, version, {
          ...(opts.replicationStatus ? { expand: 'ReplicationStatus' } : {}),
          abortSignal: signal(),
        }),
      );
      return v ? toVersion(v) : undefined;
    },

    async listImageVersions(definition) {
      return call(`listImageVersions ${definition}`, async () => {
        const out: GalleryImageVersionInfo[] = [];
        for await (const v of compute.galleryImageVersions.listByGalleryImage(
          gallery.resourceGroup,
          gallery.name,
          definition,
          { abortSignal: signal() },
        )) {
          out.push(toVersion(v));
        }
        return out;
      });
    },

    async startCreateImageVersion(definition, version, request: CreateImageVersionRequest) {
      await call(`createImageVersion ${definition}/${version}`, () =>
        compute.galleryImageVersions
          .createOrUpdate(
            gallery.resourceGroup,
            gallery.name,
            definition,
            version,
            {
              location: request.location,
              tags: request.tags,
              publishingProfile: {
                targetRegions: request.targetRegions.map(toTargetRegion),
                excludeFromLatest: request.excludeFromLatest,
                ...(request.endOfLifeDate ? { endOfLifeDate: new Date(request.endOfLifeDate) } : {}),
              },
              storageProfile: { source: { id: request.sourceId } },
            },
            { abortSignal: signal() },
          )
          .submitted(),
      );
    },

    async startUpdateImageVersion(definition, version, change) {
      await call(`updateImageVersion ${definition}/${version}`, () =>
        compute.galleryImageVersions
          .update(
            gallery.resourceGroup,
            gallery.name,
            definition,
            version,
            {
              publishingProfile: {
                ...(change.excludeFromLatest !== undefined
                  ? { excludeFromLatest: change.excludeFromLatest }
                  : {}),
                ...(change.targetRegions ? { targetRegions: change.targetRegions.map(toTargetRegion) } : {}),
                ...(change.endOfLifeDate ? { endOfLifeDate: new Date(change.endOfLifeDate) } : {}),
              },
            },
            { abortSignal: signal() },
          )
          .submitted(),
      );
    },

    async setImageVersionTags(definition, version, tags) {
      const current = await client.getImageVersion(definition, version);
      if (!current)
        throw toClientError(
          `arm setImageVersionTags ${definition}/${version}`,
          Object.assign(new Error('version not found'), { statusCode: 404 }),
        );
      await call(`setImageVersionTags ${definition}/${version}`, () =>
        compute.galleryImageVersions
          .update(
            gallery.resourceGroup,
            gallery.name,
            definition,
            version,
            { tags: { ...current.tags, ...tags } },
            { abortSignal: signal() },
          )
          .submitted(),
      );
    },

    async listAllScaleSets() {
      const filter = `resourceType eq 'Microsoft.Compute/virtualMachineScaleSets'`;
      const ids = await listScaleSetIds('listAllScaleSets', filter);
      // This list says which gallery versions are in use (S3: pruning deletes the others). A scale
      // set the list named but that cannot be read may still use a version, so it fails the list
      // instead of being dropped: the resource index may be catching up, a later run will see it right.
      return Promise.all(
        ids.map(async (id) => {
          const set = await client.getScaleSet(id);
          if (set) return set;
          throw new TransientError(
            `arm listAllScaleSets failed: scale set ${scaleSetName(id).name} was listed but reading it answered HTTP 404 (the resource list may be catching up)`,
          );
        }),
      );
    },

    async startDeleteManagedImage(imageId) {
      const resourceGroup = /\/resourceGroups\/([^/]+)\//i.exec(imageId)?.[1];
      const name = /\/images\/([^/]+)$/i.exec(imageId)?.[1];
      if (!resourceGroup || !name) throw new Error(`not a managed image id: ${imageId}`);
      try {
        await compute.images.delete(resourceGroup, name, { abortSignal: signal() }).submitted();
      } catch (err) {
        if (describeFailure(err).status === 404) return;
        throw toClientError(`arm deleteManagedImage ${name}`, err);
      }
    },

    async startDeleteImageVersion(definition, version) {
      try {
        await compute.galleryImageVersions
          .delete(gallery.resourceGroup, gallery.name, definition, version, { abortSignal: signal() })
          .submitted();
      } catch (err) {
        if (describeFailure(err).status === 404) return;
        throw toClientError(`arm deleteImageVersion ${definition}/${version}`, err);
      }
    },

    async startJobExecution(jobId, template) {
      const { resourceGroup, name } = parseResourceId(jobId, 'jobs');
      return call(`startJobExecution ${name}`, async () => {
        const abortSignal = signal();
        const poller = await apps.jobs.beginStart(resourceGroup, name, {
          template: {
            containers: template.containers.map(toContainer),
            initContainers: template.initContainers?.map(toContainer),
          },
          abortSignal,
        });
        // The same deadline for the polls and the waits between them.
        const result = await poller.pollUntilDone({ abortSignal });
        if (!result?.name || !result.id)
          throw new Error('ARM accepted the job start without naming the execution');
        return { name: result.name, id: result.id };
      });
    },

    async getJobExecution(jobId, executionName) {
      const { resourceGroup, name } = parseResourceId(jobId, 'jobs');
      const e = await orUndefinedOn404(`getJobExecution ${name}/${executionName}`, () =>
        apps.jobExecution(resourceGroup, name, executionName, { abortSignal: signal() }),
      );
      return e ? toExecution(e, executionName) : undefined;
    },

    async findJobExecution(jobId, env) {
      const { resourceGroup, name } = parseResourceId(jobId, 'jobs');
      return call(`listJobExecutions ${name}`, async () => {
        // An empty answer would read as "never started" and start the build a second time.
        const pages = pageCheck();
        let found: JobExecutionInfo | undefined;
        for await (const e of apps.jobsExecutions.list(resourceGroup, name, {
          abortSignal: signal(),
          onResponse: pages.onResponse,
        })) {
          const values = new Map((e.template?.containers?.[0]?.env ?? []).map((v) => [v.name, v.value]));
          if (!Object.entries(env).every(([key, value]) => values.get(key) === value)) continue;
          const info = toExecution(e, '');
          if (!found || (info.startTime ?? '') > (found.startTime ?? '')) found = info;
        }
        pages.check();
        return found;
      });
    },

    async stopJobExecution(jobId, executionName) {
      const { resourceGroup, name } = parseResourceId(jobId, 'jobs');
      await call(`stopJobExecution ${name}/${executionName}`, async () => {
        await apps.jobs.beginStopExecution(resourceGroup, name, executionName, { abortSignal: signal() });
      });
    },
  };
  return client;
}

/**
 * For the lists of the older SDKs (arm-resources, arm-appcontainers), which take a page without a
 * `value` list for an empty page: `onResponse` notes such an answer and `check` then fails the list
 * (a plain Error: the caller's toClientError names the operation and makes it permanent).
 */
function pageCheck() {
  let malformed = false;
  return {
    onResponse(raw: { status: number; parsedBody?: unknown }) {
      const value = (raw.parsedBody as { value?: unknown } | null | undefined)?.value;
      if (raw.status >= 200 && raw.status < 300 && !Array.isArray(value)) malformed = true;
    },
    check() {
      if (malformed) throw new Error('a page of the answer (HTTP 200) holds no list');
    },
  };
}

/** OData string literal: single quotes doubled. */
function odata(value: string): string {
  return value.replace(/'/g, "''");
}

function toScaleSet(v: VirtualMachineScaleSet, requestedId: string): ScaleSet {
  const profile = v.virtualMachineProfile;
  const os = profile?.osProfile;
  const osDiskType = profile?.storageProfile?.osDisk?.osType;
  const osType: 'Linux' | 'Windows' =
    os?.windowsConfiguration || osDiskType === 'Windows' ? 'Windows' : 'Linux';
  const id = v.id ?? requestedId;
  const mode = v.upgradePolicy?.mode;
  const out: ScaleSet = {
    id,
    name: v.name ?? parseResourceId(requestedId, 'virtualMachineScaleSets').name,
    resourceGroup: resourceGroupOf(id),
    location: v.location ?? '',
    tags: { ...(v.tags ?? {}) },
    orchestrationMode: v.orchestrationMode === 'Flexible' ? 'Flexible' : 'Uniform',
    computerNamePrefix: os?.computerNamePrefix ?? '',
    osType,
    capacity: v.sku?.capacity ?? 0,
  };
  if (mode === 'Manual' || mode === 'Automatic' || mode === 'Rolling') out.upgradeMode = mode;
  const imageId = profile?.storageProfile?.imageReference?.id;
  if (imageId) out.imageReferenceId = imageId;
  if (v.etag) out.etag = v.etag;
  const identity = v.identity;
  if (identity && (identity.principalId || identity.userAssignedIdentities)) {
    out.identity = {
      ...(identity.principalId ? { principalId: identity.principalId } : {}),
      userAssigned: Object.entries(identity.userAssignedIdentities ?? {}).map(([resourceId, u]) => ({
        resourceId,
        ...(u.principalId ? { principalId: u.principalId } : {}),
        ...(u.clientId ? { clientId: u.clientId } : {}),
      })),
    };
  }
  return out;
}

function toInstance(vm: VirtualMachineScaleSetVM): ScaleSetInstance {
  const statuses = vm.instanceView?.statuses ?? [];
  const prov = statuses.find((s) => s.code?.startsWith('ProvisioningState/'));
  const power = statuses.find((s) => s.code?.startsWith('PowerState/'));
  const out: ScaleSetInstance = {
    instanceId: vm.instanceId ?? '',
    name: vm.name ?? '',
    computerName: vm.osProfile?.computerName ?? vm.instanceView?.computerName ?? '',
    latestModelApplied: vm.latestModelApplied ?? false,
    provisioningState: vm.provisioningState ?? 'Unknown',
  };
  if (vm.vmId) out.vmId = vm.vmId;
  if (prov?.time) out.provisionedAt = new Date(prov.time).toISOString();
  if (power?.code) out.powerState = power.code.slice('PowerState/'.length);
  const imageId = vm.storageProfile?.imageReference?.id;
  if (imageId) out.imageReferenceId = imageId;
  return out;
}

function toTargetRegion(r: GalleryTargetRegion) {
  return {
    name: r.name,
    regionalReplicaCount: r.replicas,
    ...(r.excludeFromLatest !== undefined ? { excludeFromLatest: r.excludeFromLatest } : {}),
    ...(r.storageAccountType ? { storageAccountType: r.storageAccountType } : {}),
  };
}

function toVersion(v: GalleryImageVersion): GalleryImageVersionInfo {
  const pp = v.publishingProfile;
  const out: GalleryImageVersionInfo = {
    id: v.id ?? '',
    name: v.name ?? '',
    excludeFromLatest: pp?.excludeFromLatest ?? false,
    targetRegions: (pp?.targetRegions ?? []).map((t) => {
      const r: GalleryTargetRegion = {
        name: t.name,
        replicas: t.regionalReplicaCount ?? pp?.replicaCount ?? 1,
      };
      if (t.excludeFromLatest !== undefined) r.excludeFromLatest = t.excludeFromLatest;
      if (t.storageAccountType) r.storageAccountType = t.storageAccountType;
      return r;
    }),
    tags: { ...(v.tags ?? {}) },
  };
  if (v.provisioningState) out.provisioningState = v.provisioningState;
  if (pp?.publishedDate) out.publishedDate = new Date(pp.publishedDate).toISOString();
  if (pp?.endOfLifeDate) out.endOfLifeDate = new Date(pp.endOfLifeDate).toISOString();
  const src = v.storageProfile?.source;
  const sourceId = src?.id ?? (src as { virtualMachineId?: string } | undefined)?.virtualMachineId;
  if (sourceId) out.sourceId = sourceId;
  if (v.replicationStatus) {
    out.replication = {
      aggregatedState: v.replicationStatus.aggregatedState ?? 'Unknown',
      regions: (v.replicationStatus.summary ?? []).map((s) => {
        const r: { region: string; state: string; progress?: number; details?: string } = {
          region: s.region ?? '',
          state: s.state ?? 'Unknown',
        };
        if (s.progress !== undefined) r.progress = s.progress;
        if (s.details) r.details = s.details;
        return r;
      }),
    };
  }
  return out;
}

function toExecution(e: JobExecution, fallbackName: string): JobExecutionInfo {
  const info: JobExecutionInfo = { name: e.name ?? fallbackName, status: e.status ?? 'Unknown' };
  if (e.startTime) info.startTime = new Date(e.startTime).toISOString();
  if (e.endTime) info.endTime = new Date(e.endTime).toISOString();
  return info;
}

function toContainer(c: JobContainer) {
  return {
    name: c.name,
    image: c.image,
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    ...(c.env ? { env: c.env } : {}),
    ...(c.resources ? { resources: c.resources } : {}),
  };
}
