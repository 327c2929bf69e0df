/**
 * The fake ARM's VM scale sets: read and PATCH the model (If-Match on its ETag, the linked checks of a
 * model write, a gallery version only once replicated to the scale set's region), list and read its
 * VMs, and reimage, manually upgrade or delete instances as long-running operations.
 */
import { ArmError, type ArmContext } from './arm-context.js';
import { etagOf, scaleSetViews } from './arm-scale-set-views.js';
import { sendJson, type FakeRequest } from './http.js';
import { regionKey, type WorldInstance, type WorldScaleSet } from './world.js';

/** `…/virtualMachineScaleSets/{name}[/…]`: the model, its VMs, reimage, manual upgrade, delete instances. */
export function scaleSetRoutes(ctx: ArmContext) {
  const { world, faults, run, body, page, lroHeaders, demand } = ctx;
  const o = ctx.options;
  const { identityOf, scaleSetBody, vmBody, instanceView } = scaleSetViews(ctx);
  return scaleSetRoute;

  function findSet(rg: string, name: string): WorldScaleSet {
    const set = world.findScaleSet(name);
    if (!set || set.resourceGroup.toLowerCase() !== rg.toLowerCase()) {
      throw new ArmError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    }
    return set;
  }

  function scaleSetRoute(
    req: FakeRequest,
    rg: string,
    name: string,
    rest: string[],
    restLower: string[],
  ): void {
    const m = req.method;
    if (rest.length === 0 && m === 'GET')
      return run(req, 'compute', 'virtualMachineScaleSets.get', () =>
        sendJson(req.res, 200, scaleSetBody(findSet(rg, name))),
      );
    if (rest.length === 0 && m === 'PATCH')
      return run(req, 'compute', 'virtualMachineScaleSets.update', () =>
        patchScaleSet(req, findSet(rg, name)),
      );
    if (rest.length === 1 && m === 'POST' && restLower[0] === 'reimage')
      return run(req, 'compute', 'virtualMachineScaleSets.reimage', () =>
        rebuild(req, findSet(rg, name), 'reimage'),
      );
    if (rest.length === 1 && m === 'POST' && restLower[0] === 'manualupgrade')
      return run(req, 'compute', 'virtualMachineScaleSets.updateInstances', () =>
        rebuild(req, findSet(rg, name), 'upgrade'),
      );
    if (rest.length === 1 && m === 'POST' && restLower[0] === 'delete')
      return run(req, 'compute', 'virtualMachineScaleSets.deleteInstances', () =>
        deleteInstances(req, findSet(rg, name)),
      );
    if (restLower[0] === 'virtualmachines' && m === 'GET') {
      if (rest.length === 1)
        return run(req, 'compute', 'virtualMachineScaleSetVMs.list', () => listVms(req, findSet(rg, name)));
      if (rest.length === 2) {
        return run(req, 'compute', 'virtualMachineScaleSetVMs.get', () => {
          const set = findSet(rg, name);
          sendJson(
            req.res,
            200,
            vmBody(set, findInstance(set, rest[1]!), req.url.searchParams.get('$expand') === 'instanceView'),
          );
        });
      }
      if (rest.length === 3 && restLower[2] === 'instanceview') {
        return run(req, 'compute', 'virtualMachineScaleSetVMs.getInstanceView', () => {
          const set = findSet(rg, name);
          sendJson(req.res, 200, instanceView(set, findInstance(set, rest[1]!)));
        });
      }
    }
    throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
  }

  function findInstance(set: WorldScaleSet, id: string): WorldInstance {
    const inst = set.instances.get(id);
    if (!inst)
      throw new ArmError(
        404,
        'NotFound',
        `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${set.name}/virtualMachines/${id}' under resource group '${set.resourceGroup}' was not found.`,
      );
    return inst;
  }

  function patchScaleSet(req: FakeRequest, set: WorldScaleSet): void {
    // An If-Match names the model the caller decided on; ARM refuses the write once anything changed it.
    const ifMatch = req.headers['if-match'];
    if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== etagOf(set))
      throw new ArmError(
        412,
        'PreconditionFailed',
        `The specified precondition 'If-Match = ${ifMatch}' failed: the scale set '${set.name}' has changed (ETag ${etagOf(set)}).`,
      );
    const b = body(req, true);
    const props = (b.properties ?? {}) as Record<string, unknown>;
    const vmp = (props.virtualMachineProfile ?? {}) as Record<string, unknown>;
    const sp = (vmp.storageProfile ?? {}) as Record<string, unknown>;
    const ir = sp.imageReference as Record<string, unknown> | undefined;
    // Every model write re-validates what the model links to, even a tags-only PATCH: the subnet,
    // the user-assigned identity and the gallery image the model will reference.
    const modelImage = typeof ir?.id === 'string' && ir.id !== '' ? ir.id : set.imageId;
    demand('Microsoft.Compute/virtualMachineScaleSets/write', set.id, [
      { action: 'Microsoft.Network/virtualNetworks/subnets/join/action', scope: world.subnetId() },
      { action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', scope: identityOf(set) },
      ...(/\/galleries\//i.test(modelImage)
        ? [
            {
              action: /\/versions\/[^/]+$/i.test(modelImage)
                ? 'Microsoft.Compute/galleries/images/versions/read'
                : 'Microsoft.Compute/galleries/images/read',
              scope: modelImage,
            },
          ]
        : []),
    ]);
    let imageId: string | undefined;
    if (ir !== undefined) {
      if (typeof ir.id !== 'string' || ir.id === '')
        throw new ArmError(
          400,
          'InvalidParameter',
          "Required parameter 'imageReference.id' is missing (null).",
        );
      imageId = ir.id;
      const v = world.versionByImageId(imageId);
      const isDefinition = /\/images\/([^/]+)$/i.exec(imageId);
      if (!v && !(isDefinition && world.kindOfDefinition(isDefinition[1]!))) {
        throw new ArmError(
          404,
          'GalleryImageNotFound',
          `The gallery image ${imageId} is not available in ${set.location} region. Please contact image owner to replicate to this region, or change your requested region.`,
        );
      }
      if (v) {
        const rep = v.replication.find((r) => regionKey(r.region) === regionKey(set.location));
        if (!rep || rep.state !== 'Completed') {
          throw new ArmError(
            400,
            'GalleryImageNotFound',
            `The gallery image version ${v.name} is not available in ${set.location} region. Please contact image owner to replicate to this region, or change your requested region.`,
          );
        }
      }
    }
    let tags: Record<string, string> | undefined;
    if (b.tags !== undefined) {
      if (typeof b.tags !== 'object' || b.tags === null)
        throw new ArmError(400, 'InvalidRequestContent', 'tags must be an object.');
      tags = b.tags as Record<string, string>;
    }
    let capacity: number | undefined;
    if (b.sku !== undefined) {
      const sku = b.sku as Record<string, unknown> | null;
      const value = sku?.capacity;
      if (
        typeof sku !== 'object' ||
        sku === null ||
        (value !== undefined &&
          (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000))
      )
        throw new ArmError(
          400,
          'InvalidParameter',
          `The value ${JSON.stringify(value)} of parameter 'sku.capacity' is not valid: it must be a whole number from 0 to 1000.`,
        );
      capacity = value as number | undefined;
    }
    world.updateModel(set, { imageId, tags });
    if (capacity !== undefined) world.setCapacity(set, capacity);
    const op = world.newOperation();
    world.completeOperationAfter(op, 0);
    sendJson(req.res, 200, scaleSetBody(set), lroHeaders(op, set.location));
  }

  function instanceIdsOf(req: FakeRequest, set: WorldScaleSet, required: boolean): string[] {
    const b = body(req, required);
    const ids = b.instanceIds;
    if (ids === undefined || (Array.isArray(ids) && ids.length === 0 && !required)) {
      if (required)
        throw new ArmError(400, 'InvalidParameter', "Required parameter 'instanceIds' is missing (null).");
      return [...set.instances.keys()];
    }
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string'))
      throw new ArmError(400, 'InvalidParameter', 'instanceIds must be an array of strings.');
    if (required && ids.length === 0)
      throw new ArmError(400, 'InvalidParameter', "Required parameter 'instanceIds' is empty.");
    for (const id of ids as string[]) {
      const inst = set.instances.get(id);
      if (!inst || inst.provisioningState === 'Deleting') {
        throw new ArmError(
          400,
          'InvalidParameter',
          `The provided instanceId ${id} is not an active Virtual Machine Scale Set VM instanceId.`,
        );
      }
    }
    return [...new Set(ids as string[])];
  }

  function rebuild(req: FakeRequest, set: WorldScaleSet, mode: 'reimage' | 'upgrade'): void {
    const ids = instanceIdsOf(req, set, mode === 'upgrade');
    const op = world.newOperation();
    const fail = !!faults.takeFailure(
      'arm',
      mode === 'reimage' ? 'virtualMachineScaleSets.reimage' : 'virtualMachineScaleSets.updateInstances',
    );
    world.rebuildInstances(set, ids, mode, op, fail);
    sendJson(req.res, 202, undefined, lroHeaders(op, set.location));
  }

  function deleteInstances(req: FakeRequest, set: WorldScaleSet): void {
    const ids = instanceIdsOf(req, set, true);
    const op = world.newOperation();
    const fail = !!faults.takeFailure('arm', 'virtualMachineScaleSets.deleteInstances');
    world.deleteInstances(set, ids, op, fail);
    sendJson(req.res, 202, undefined, lroHeaders(op, set.location));
  }

  function listVms(req: FakeRequest, set: WorldScaleSet): void {
    const expand = req.url.searchParams.get('$expand');
    if (expand !== null && expand !== 'instanceView')
      throw new ArmError(
        400,
        'InvalidParameter',
        `The value '${expand}' of parameter '$expand' is invalid. Allowed values: instanceView.`,
      );
    const filter = req.url.searchParams.get('$filter');
    let items = [...set.instances.values()];
    if (filter) {
      const lm = /^properties\/latestModelApplied eq (true|false)$/i.exec(filter.trim());
      if (lm) items = items.filter((i) => i.latestModelApplied === (lm[1]!.toLowerCase() === 'true'));
      else if (!/^startswith\(instanceView\/statuses\/code, *'PowerState'\) eq true$/i.test(filter.trim())) {
        throw new ArmError(
          400,
          'InvalidParameter',
          `The value '${filter}' of parameter '$filter' is invalid.`,
        );
      }
    }
    page(
      req,
      items.map((i) => vmBody(set, i, expand === 'instanceView')),
      o.pageSize.vms,
    );
  }
}
