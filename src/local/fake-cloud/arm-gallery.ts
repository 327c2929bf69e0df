/**
 * The fake ARM's Compute Gallery: image definitions, versions (PUT with replication to target regions,
 * PATCH of excludeFromLatest, end of life and regions, DELETE) and the managed images Packer builds
 * leave, which versions are published from.
 */
import type { ImageKind } from '../scenario/types.js';
import { ArmError, type ArmContext } from './arm-context.js';
import { sendJson, type FakeRequest } from './http.js';
import { regionDisplay, regionKey, type TargetRegion, type WorldGalleryVersion } from './world.js';

/** `…/galleries/{gallery}/images/…` and `…/Microsoft.Compute/images/{name}`. */
export function galleryRoutes(ctx: ArmContext) {
  const { world, names, faults, run, body, page, lroHeaders, demand } = ctx;
  const o = ctx.options;
  return { galleryRoute, managedImageRoute };

  function galleryRoute(
    req: FakeRequest,
    rg: string,
    gallery: string,
    rest: string[],
    restLower: string[],
  ): void {
    const m = req.method;
    const galleryOk =
      rg.toLowerCase() === names.galleryResourceGroup.toLowerCase() &&
      gallery.toLowerCase() === names.galleryName.toLowerCase();
    const notFound = (what: string) =>
      new ArmError(
        404,
        'ResourceNotFound',
        `The Resource '${what}' under resource group '${rg}' was not found.`,
      );
    if (restLower[0] !== 'images' || !rest[1])
      throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
    const definition = rest[1];
    const kindOf = (): ImageKind => {
      const kind = galleryOk ? world.kindOfDefinition(definition) : undefined;
      if (!kind) throw notFound(`Microsoft.Compute/galleries/${gallery}/images/${definition}`);
      return kind;
    };
    if (rest.length === 2 && m === 'GET')
      return run(req, 'gallery', 'galleryImages.get', () => sendJson(req.res, 200, definitionBody(kindOf())));
    if (restLower[2] !== 'versions')
      throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
    if (rest.length === 3 && m === 'GET') {
      return run(req, 'gallery', 'galleryImageVersions.listByGalleryImage', () => {
        const kind = kindOf();
        const items = [...world.versions.values()]
          .filter((v) => v.kind === kind)
          .map((v) => versionBody(v, false));
        page(req, items, o.pageSize.versions);
      });
    }
    if (rest.length !== 4) throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
    const versionName = rest[3]!;
    const find = (kind: ImageKind) => {
      const v = world.versions.get(world.versionKey(kind, versionName));
      if (!v)
        throw notFound(`Microsoft.Compute/galleries/${gallery}/images/${definition}/versions/${versionName}`);
      return v;
    };
    if (m === 'GET') {
      return run(req, 'gallery', 'galleryImageVersions.get', () => {
        const expand = req.url.searchParams.get('$expand');
        if (
          expand !== null &&
          expand.toLowerCase() !== 'replicationstatus' &&
          expand.toLowerCase() !== 'uefisettings'
        ) {
          throw new ArmError(
            400,
            'InvalidParameter',
            `The value '${expand}' of parameter '$expand' is invalid.`,
          );
        }
        sendJson(req.res, 200, versionBody(find(kindOf()), expand?.toLowerCase() === 'replicationstatus'));
      });
    }
    if (m === 'PUT')
      return run(req, 'gallery', 'galleryImageVersions.createOrUpdate', () =>
        putVersion(req, kindOf(), versionName),
      );
    if (m === 'PATCH')
      return run(req, 'gallery', 'galleryImageVersions.update', () => patchVersion(req, find(kindOf())));
    if (m === 'DELETE') {
      return run(req, 'gallery', 'galleryImageVersions.delete', () => {
        const kind = kindOf();
        const v = world.versions.get(world.versionKey(kind, versionName));
        const op = world.newOperation();
        world.completeOperationAfter(op, 0);
        if (!v) return sendJson(req.res, 204, undefined);
        world.deleteVersion(v);
        sendJson(req.res, 202, undefined, lroHeaders(op, v.location));
      });
    }
    throw new ArmError(405, 'MethodNotAllowed', `${m} is not allowed on ${req.url.pathname}`);
  }

  /** The managed image a version was made from (versions that exist before the run name a made-up one). */
  function sourceOf(v: WorldGalleryVersion): string {
    return (
      v.sourceId ??
      `/subscriptions/${names.subscriptionId}/resourceGroups/${names.imagesResourceGroup}/providers/Microsoft.Compute/images/${v.definition}-${v.name}`
    );
  }

  function definitionBody(kind: ImageKind) {
    return {
      id: world.definitionId(kind),
      name: names.definitions[kind],
      type: 'Microsoft.Compute/galleries/images',
      location: world.scenario.gallery.regions[0] ?? 'westeurope',
      properties: {
        osType: kind === 'linux' ? 'Linux' : 'Windows',
        osState: 'Generalized',
        hyperVGeneration: 'V2',
        identifier: { publisher: 'kiln', offer: 'runners', sku: names.definitions[kind] },
        provisioningState: 'Succeeded',
      },
    };
  }

  function versionBody(v: WorldGalleryVersion, withReplication: boolean) {
    const now = world.clock.nowMs();
    const progress = (r: { state: string; startedAt: number; doneAt: number }) =>
      r.state === 'Completed'
        ? 100
        : r.state === 'Failed'
          ? 0
          : Math.min(99, Math.floor(((now - r.startedAt) / Math.max(r.doneAt - r.startedAt, 1)) * 100));
    const aggregated = v.replication.some((r) => r.state === 'Failed')
      ? 'Failed'
      : v.replication.some((r) => r.state === 'Replicating')
        ? 'InProgress'
        : 'Completed';
    return {
      id: world.versionId(v.kind, v.name),
      name: v.name,
      type: 'Microsoft.Compute/galleries/images/versions',
      location: regionDisplay(v.location),
      tags: { ...v.tags },
      properties: {
        publishingProfile: {
          targetRegions: v.targetRegions.map((t) => ({
            name: regionDisplay(t.name),
            regionalReplicaCount: t.regionalReplicaCount,
            storageAccountType: t.storageAccountType,
            excludeFromLatest: t.excludeFromLatest,
          })),
          replicaCount: v.replicaCount,
          excludeFromLatest: v.excludeFromLatest,
          publishedDate: new Date(v.publishedDate).toISOString(),
          ...(v.endOfLifeDate ? { endOfLifeDate: v.endOfLifeDate } : {}),
          storageAccountType: v.storageAccountType,
        },
        storageProfile: {
          source: { id: sourceOf(v) },
          osDiskImage: { sizeInGB: 86, hostCaching: 'ReadOnly' },
        },
        safetyProfile: { allowDeletionOfReplicatedLocations: true, reportedForPolicyViolation: false },
        provisioningState: v.provisioningState,
        ...(withReplication
          ? {
              replicationStatus: {
                aggregatedState: aggregated,
                summary: v.replication.map((r) => ({
                  region: regionDisplay(r.region),
                  state: r.state,
                  details: r.details,
                  progress: progress(r),
                })),
              },
            }
          : {}),
      },
    };
  }

  function parseTargetRegions(
    raw: unknown,
    fallbackRegion: string,
    replicaCount: number,
    storage: string,
    exclude: boolean,
  ): TargetRegion[] {
    if (raw === undefined)
      return [
        {
          name: fallbackRegion,
          regionalReplicaCount: replicaCount,
          storageAccountType: storage,
          excludeFromLatest: exclude,
        },
      ];
    if (!Array.isArray(raw) || raw.length === 0)
      throw new ArmError(
        400,
        'InvalidParameter',
        'publishingProfile.targetRegions must be a non-empty array.',
      );
    return raw.map((t: unknown) => {
      const r = t as Record<string, unknown>;
      if (typeof r?.name !== 'string' || r.name === '')
        throw new ArmError(400, 'InvalidParameter', "Required parameter 'targetRegions[].name' is missing.");
      return {
        name: regionKey(r.name),
        regionalReplicaCount:
          typeof r.regionalReplicaCount === 'number' ? r.regionalReplicaCount : replicaCount,
        storageAccountType: typeof r.storageAccountType === 'string' ? r.storageAccountType : storage,
        excludeFromLatest: typeof r.excludeFromLatest === 'boolean' ? r.excludeFromLatest : exclude,
      };
    });
  }

  function putVersion(req: FakeRequest, kind: ImageKind, versionName: string): void {
    if (!/^\d{1,9}\.\d{1,9}\.\d{1,9}$/.test(versionName)) {
      throw new ArmError(
        400,
        'InvalidParameter',
        `The gallery image version name '${versionName}' is invalid. It must follow the Major(int32).Minor(int32).Patch(int32) format.`,
      );
    }
    const b = body(req, true);
    const galleryLocation = world.scenario.gallery.regions[0] ?? 'westeurope';
    if (typeof b.location !== 'string' || b.location === '')
      throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (regionKey(b.location) !== regionKey(galleryLocation)) {
      throw new ArmError(
        400,
        'InvalidParameter',
        `The gallery image version location '${b.location}' must match the gallery location '${galleryLocation}'.`,
      );
    }
    const props = (b.properties ?? {}) as Record<string, unknown>;
    const pp = (props.publishingProfile ?? {}) as Record<string, unknown>;
    const sp = (props.storageProfile ?? {}) as Record<string, unknown>;
    const source = (sp.source ?? {}) as Record<string, unknown>;
    const existing = world.versions.get(world.versionKey(kind, versionName));
    const sourceId =
      typeof source.id === 'string'
        ? source.id
        : typeof source.virtualMachineId === 'string'
          ? source.virtualMachineId
          : undefined;
    if (!existing && !sourceId)
      throw new ArmError(
        400,
        'InvalidParameter',
        "Required parameter 'storageProfile.source' is missing: a gallery image version needs a source.",
      );
    // Publishing from a managed image reads it: a linked check on the source.
    if (sourceId)
      demand('Microsoft.Compute/galleries/images/versions/write', world.versionId(kind, versionName), [
        {
          action: /\/virtualMachines\//i.test(sourceId)
            ? 'Microsoft.Compute/virtualMachines/read'
            : 'Microsoft.Compute/images/read',
          scope: sourceId,
        },
      ]);
    // A version's source is fixed: a PUT naming another source is refused (publish a new version).
    if (existing && sourceId && sourceOf(existing).toLowerCase() !== sourceId.toLowerCase())
      throw new ArmError(
        409,
        'PropertyChangeNotAllowed',
        "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not allowed.",
      );
    const replicaCount = typeof pp.replicaCount === 'number' ? pp.replicaCount : 1;
    const storage = typeof pp.storageAccountType === 'string' ? pp.storageAccountType : 'Standard_LRS';
    const exclude = pp.excludeFromLatest === true;
    const targetRegions = parseTargetRegions(
      pp.targetRegions,
      regionKey(b.location),
      replicaCount,
      storage,
      exclude,
    );
    const op = world.newOperation();
    const failRegions = new Set<string>();
    if (faults.takeFailure('arm', 'galleryImageVersions.createOrUpdate'))
      for (const t of targetRegions) failRegions.add(regionKey(t.name));
    for (const t of targetRegions)
      if (faults.takeFailure('arm', 'replication', t.name)) failRegions.add(regionKey(t.name));
    const { version, created } = world.createOrUpdateVersion(
      kind,
      versionName,
      {
        location: regionKey(b.location),
        targetRegions,
        excludeFromLatest: exclude,
        endOfLifeDate: typeof pp.endOfLifeDate === 'string' ? pp.endOfLifeDate : undefined,
        sourceId,
        tags: (b.tags as Record<string, string>) ?? {},
        replicaCount,
        storageAccountType: storage,
      },
      op,
      failRegions,
    );
    sendJson(req.res, created ? 201 : 200, versionBody(version, false), lroHeaders(op, version.location));
  }

  function patchVersion(req: FakeRequest, v: WorldGalleryVersion): void {
    const b = body(req, true);
    const props = (b.properties ?? {}) as Record<string, unknown>;
    const pp = (props.publishingProfile ?? {}) as Record<string, unknown>;
    if (pp.excludeFromLatest !== undefined) {
      if (typeof pp.excludeFromLatest !== 'boolean')
        throw new ArmError(400, 'InvalidParameter', 'excludeFromLatest must be a boolean.');
      world.setExcludeFromLatest(v, pp.excludeFromLatest);
      world.event('arm', `${v.definition}/${v.name} excludeFromLatest=${pp.excludeFromLatest}`);
    }
    if (typeof pp.endOfLifeDate === 'string') v.endOfLifeDate = pp.endOfLifeDate;
    if (b.tags !== undefined) v.tags = { ...(b.tags as Record<string, string>) };
    const op = world.newOperation();
    if (pp.targetRegions !== undefined) {
      const regions = parseTargetRegions(
        pp.targetRegions,
        v.location,
        v.replicaCount,
        v.storageAccountType,
        v.excludeFromLatest,
      );
      const failRegions = new Set<string>();
      for (const t of regions) {
        const already = v.replication.some(
          (r) => regionKey(r.region) === regionKey(t.name) && r.state === 'Completed',
        );
        if (!already && faults.takeFailure('arm', 'replication', t.name)) failRegions.add(regionKey(t.name));
      }
      world.setTargetRegions(v, regions, op, failRegions);
    } else {
      world.completeOperationAfter(op, 0);
    }
    sendJson(req.res, 200, versionBody(v, false), lroHeaders(op, v.location));
  }

  /** Managed images: the intermediate output of a Packer build, published into the gallery, then deleted. */
  function managedImageRoute(req: FakeRequest, rg: string, name: string): void {
    const id = `/subscriptions/${names.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/images/${name}`;
    const exists = world.managedImages.has(id.toLowerCase());
    if (req.method === 'GET') {
      return run(req, 'compute', 'images.get', () => {
        if (!exists)
          throw new ArmError(
            404,
            'NotFound',
            `The Resource 'Microsoft.Compute/images/${name}' under resource group '${rg}' was not found.`,
          );
        sendJson(req.res, 200, {
          id,
          name,
          type: 'Microsoft.Compute/images',
          location: world.scenario.gallery.regions[0],
          properties: { provisioningState: 'Succeeded' },
        });
      });
    }
    if (req.method === 'DELETE') {
      return run(req, 'compute', 'images.delete', () => {
        if (!exists) return sendJson(req.res, 204, undefined);
        world.managedImages.delete(id.toLowerCase());
        world.event('arm', `deleted managed image ${name}`);
        const op = world.newOperation();
        world.completeOperationAfter(op, 0);
        sendJson(req.res, 202, undefined, lroHeaders(op, world.scenario.gallery.regions[0] ?? 'westeurope'));
      });
    }
    throw new ArmError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${req.url.pathname}`);
  }
}
