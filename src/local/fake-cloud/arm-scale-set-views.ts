/**
 * The fake ARM's answers about scale sets: the scale set model, its VMs and their instance views, in
 * the shapes the Azure SDK reads (@azure/arm-compute).
 */
import type { ArmContext } from './arm-context.js';
import type { WorldInstance, WorldScaleSet } from './world.js';

/** Bodies of scale sets, their VMs and instance views. */
export function scaleSetViews(ctx: ArmContext) {
  const { world } = ctx;
  return { identityOf, scaleSetBody, vmBody, instanceView };

  /** The user-assigned identity of a scale set's instances: kiln's runner or agent identity, or the owner's. */
  function identityOf(set: WorldScaleSet): string {
    return world.scaleSetIdentity(set).resourceId;
  }

  function scaleSetBody(set: WorldScaleSet) {
    const linux = set.kind === 'linux';
    const identity = world.scaleSetIdentity(set);
    return {
      id: set.id,
      name: set.name,
      type: 'Microsoft.Compute/virtualMachineScaleSets',
      location: set.location,
      tags: { ...set.tags },
      etag: etagOf(set),
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: {
          [identity.resourceId]: { principalId: identity.principalId, clientId: identity.clientId },
        },
      },
      // ARM lowers the capacity as it accepts an instance delete, not when the VM is finally gone.
      sku: {
        name: set.vmSize,
        tier: 'Standard',
        capacity: [...set.instances.values()].filter((i) => i.provisioningState !== 'Deleting').length,
      },
      properties: {
        singlePlacementGroup: false,
        orchestrationMode: set.orchestrationMode,
        upgradePolicy: { mode: set.upgradeMode },
        provisioningState: 'Succeeded',
        overprovision: false,
        doNotRunExtensionsOnOverprovisionedVMs: false,
        platformFaultDomainCount: 1,
        uniqueId: set.id.length.toString(16).padStart(8, '0') + '-0000-4000-8000-000000000000',
        virtualMachineProfile: {
          osProfile: {
            computerNamePrefix: set.computerNamePrefix,
            adminUsername: 'kiln',
            ...(linux
              ? { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true } }
              : { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: false } }),
            allowExtensionOperations: true,
          },
          storageProfile: {
            imageReference: { id: set.imageId },
            osDisk: {
              osType: linux ? 'Linux' : 'Windows',
              createOption: 'FromImage',
              caching: 'ReadOnly',
              managedDisk: { storageAccountType: 'Premium_LRS' },
              diskSizeGB: 128,
            },
          },
          networkProfile: {
            networkInterfaceConfigurations: [
              {
                name: `${set.name}-nic`,
                properties: {
                  primary: true,
                  ipConfigurations: [
                    {
                      name: 'ipconfig1',
                      properties: {
                        subnet: {
                          id: world.subnetId(),
                        },
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
      },
    };
  }

  function vmBody(set: WorldScaleSet, inst: WorldInstance, withView: boolean) {
    const linux = set.kind === 'linux';
    const v = world.versionByImageId(inst.imageId);
    return {
      name: inst.name,
      id: `${set.id}/virtualMachines/${inst.instanceId}`,
      type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
      instanceId: inst.instanceId,
      location: set.location,
      tags: {},
      sku: { name: set.vmSize, tier: 'Standard' },
      properties: {
        latestModelApplied: inst.latestModelApplied,
        modelDefinitionApplied: 'VirtualMachineScaleSet',
        vmId: inst.vmId,
        provisioningState: inst.provisioningState,
        timeCreated: new Date(inst.timeCreated).toISOString(),
        hardwareProfile: { vmSize: set.vmSize },
        storageProfile: {
          imageReference: { id: inst.imageId, ...(v ? { exactVersion: v.name } : {}) },
          osDisk: {
            osType: linux ? 'Linux' : 'Windows',
            name: `${inst.name}_OsDisk_1`,
            createOption: 'FromImage',
            caching: 'ReadOnly',
            managedDisk: { storageAccountType: 'Premium_LRS' },
            diskSizeGB: 128,
          },
          dataDisks: [],
        },
        osProfile: {
          computerName: inst.computerName,
          adminUsername: 'kiln',
          ...(linux
            ? { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true } }
            : { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: false } }),
          secrets: [],
          allowExtensionOperations: true,
          requireGuestProvisionSignal: true,
        },
        networkProfile: {
          networkInterfaces: [
            { id: `${set.id}/virtualMachines/${inst.instanceId}/networkInterfaces/${set.name}-nic` },
          ],
        },
        ...(withView ? { instanceView: instanceView(set, inst) } : {}),
      },
    };
  }

  function instanceView(set: WorldScaleSet, inst: WorldInstance) {
    const state = inst.provisioningState;
    const provisioning =
      state === 'Succeeded'
        ? {
            code: 'ProvisioningState/succeeded',
            level: 'Info',
            displayStatus: 'Provisioning succeeded',
            time: new Date(inst.provisionedAt).toISOString(),
          }
        : state === 'Failed'
          ? {
              code: 'ProvisioningState/failed/VMProvisioningFailed',
              level: 'Error',
              displayStatus: 'Provisioning failed',
              time: new Date(inst.provisionedAt).toISOString(),
            }
          : {
              code: `ProvisioningState/${state.toLowerCase()}`,
              level: 'Info',
              displayStatus: state === 'Updating' ? 'Updating' : state,
            };
    const power = {
      running: 'VM running',
      starting: 'VM starting',
      stopped: 'VM stopped',
      deallocated: 'VM deallocated',
    }[inst.powerState];
    return {
      platformUpdateDomain: Number(inst.instanceId) % 5,
      platformFaultDomain: 0,
      computerName: inst.computerName,
      osName: set.kind === 'linux' ? 'ubuntu' : 'Windows Server 2022 Datacenter: Azure Edition',
      osVersion: set.kind === 'linux' ? '22.04' : '10.0.20348',
      vmAgent: {
        vmAgentVersion: state === 'Succeeded' ? '2.12.0.2' : 'Unknown',
        statuses: [
          state === 'Succeeded'
            ? {
                code: 'ProvisioningState/succeeded',
                level: 'Info',
                displayStatus: 'Ready',
                message: 'Guest Agent is running',
                time: new Date(inst.provisionedAt).toISOString(),
              }
            : {
                code: 'ProvisioningState/Unavailable',
                level: 'Warning',
                displayStatus: 'Not Ready',
                message: 'VM status blob is found but not yet populated.',
                time: world.isoNow(),
              },
        ],
      },
      disks: [
        {
          name: `${inst.name}_OsDisk_1`,
          statuses: [
            {
              code: 'ProvisioningState/succeeded',
              level: 'Info',
              displayStatus: 'Provisioning succeeded',
              time: new Date(inst.timeCreated).toISOString(),
            },
          ],
        },
      ],
      statuses: [
        provisioning,
        { code: `PowerState/${inst.powerState}`, level: 'Info', displayStatus: power },
      ],
    };
  }
}

/** A scale set's ETag as ARM answers it: a quoted counter of model writes. */
export function etagOf(set: WorldScaleSet): string {
  return `"${set.etag}"`;
}
