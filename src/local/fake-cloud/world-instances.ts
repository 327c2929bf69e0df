/**
 * The fake cloud's scale set models and instances: a model update (S8 and S4 judged), a reimage or
 * manual upgrade takes an instance down for `latency.reimage` minutes and it registers again
 * `latency.register` later (never on an unhealthy version, nor without its registration secret or
 * the broker's answer),
 * deleting instances, and new instances booting on the model. Long-running writes complete their
 * operation on the virtual clock.
 */
import { runnerIdentityRole } from './access.js';
import type { ImageKind } from '../scenario/types.js';
import { judgeInstanceMove, judgeModelChange, touchScaleSet } from './world-judge.js';
import { WorldJobs } from './world-jobs.js';
import {
  MINUTE,
  imageLabel,
  toBase36Id,
  type AsyncOperation,
  type WorldInstance,
  type WorldScaleSet,
} from './world-types.js';

/** The Key Vault secret each kind of instance registers with in PAT mode (scale-set.bicep's runtime settings). */
const REGISTRATION_SECRET: Record<ImageKind, string> = { linux: 'gh-pat', windows: 'ado-pat' };

/** Every secret that registers runners or agents: the GitHub App's key, the GitHub PAT, the Azure DevOps PAT. */
const REGISTRATION_SECRETS = ['github-app-key', 'gh-pat', 'ado-pat'];

/** A booting instance of a broker-mode scale set, ready to ask kiln's registration broker. */
export interface BrokeredBoot {
  set: WorldScaleSet;
  inst: WorldInstance;
  /** The instance's epoch at boot: a reimage or delete since makes this boot stale. */
  epoch: number;
}

export abstract class WorldInstances extends WorldJobs {
  /**
   * Who answers a broker-mode boot: the simulation, which runs the app, sets it. Without one (a
   * fake cloud with no app) such an instance has no broker to ask and never registers.
   */
  brokeredBoot?: (boot: BrokeredBoot) => void;

  protected addInstance(set: WorldScaleSet, provisionedAt: number): WorldInstance {
    const n = set.nextInstanceId++;
    const inst: WorldInstance = {
      instanceId: String(n),
      name: `${set.name}_${n}`,
      computerName: `${set.computerNamePrefix}${toBase36Id(n)}`,
      vmId: this.uuid(),
      imageId: set.imageId,
      latestModelApplied: true,
      provisioningState: 'Succeeded',
      powerState: 'running',
      provisionedAt,
      timeCreated: provisionedAt - 2 * MINUTE,
      epoch: 0,
    };
    set.instances.set(inst.instanceId, inst);
    return inst;
  }

  /** PATCH of the model: image and/or tags. */
  updateModel(set: WorldScaleSet, change: { imageId?: string; tags?: Record<string, string> }): void {
    touchScaleSet(this, set, 'model update');
    set.etag++;
    if (change.tags) set.tags = { ...change.tags };
    if (change.imageId && change.imageId.toLowerCase() !== set.imageId.toLowerCase()) {
      const previous = set.imageId;
      judgeModelChange(this, set, previous, change.imageId);
      set.imageId = change.imageId;
      for (const inst of set.instances.values())
        inst.latestModelApplied = inst.imageId.toLowerCase() === set.imageId.toLowerCase();
      this.event(
        'arm',
        `model of ${set.name} now ${imageLabel(change.imageId)} (was ${imageLabel(previous)})${this.kilnActs ? '' : ' — outside kiln'}`,
      );
    }
  }

  /**
   * Reimage (keeps the instance's OS image) or manual upgrade (applies the model's image). Returns
   * when ARM accepted; the instance comes back on the virtual clock. `fail` ends the operation Failed
   * with the instance left Failed.
   */
  rebuildInstances(
    set: WorldScaleSet,
    ids: string[],
    mode: 'reimage' | 'upgrade',
    op: AsyncOperation,
    fail: boolean,
  ): void {
    touchScaleSet(this, set, mode);
    const byKiln = this.kilnActs;
    const latency = this.scenario.latency;
    // A manual upgrade takes the model as it is when the upgrade is requested: a model changed while
    // the instance reimages is the next upgrade's.
    const model = set.imageId;
    for (const id of ids) {
      const inst = set.instances.get(id)!;
      this.interruptJobOn(inst.name, mode === 'reimage' ? 'instance reimaged' : 'instance upgraded', 'arm');
      inst.epoch++;
      const epoch = inst.epoch;
      inst.provisioningState = 'Updating';
      inst.powerState = 'starting';
      const reg = this.registrationOf(set, inst);
      this.setOffline(reg);
      this.event('arm', `${mode === 'reimage' ? 'reimaging' : 'upgrading'} ${inst.name}`);
      this.clock.after(
        latency.reimage,
        () => {
          if (inst.epoch !== epoch || !set.instances.has(id)) return;
          if (fail) {
            inst.provisioningState = 'Failed';
            inst.powerState = 'stopped';
            // Azure's ProvisioningState/failed status carries the time the operation failed.
            inst.provisionedAt = this.clock.nowMs();
            return;
          }
          if (mode === 'upgrade') {
            judgeInstanceMove(this, set, inst, model, byKiln ? 'kiln' : 'outside');
            inst.imageId = model;
          }
          inst.latestModelApplied = inst.imageId.toLowerCase() === set.imageId.toLowerCase();
          inst.provisioningState = 'Succeeded';
          inst.powerState = 'running';
          inst.provisionedAt = this.clock.nowMs();
          this.event(
            'arm',
            `${inst.name} ${mode === 'reimage' ? 'reimaged' : 'upgraded'} on ${imageLabel(inst.imageId)}`,
          );
          this.scheduleRegistration(set, inst, epoch);
        },
        `${mode} ${inst.name}`,
      );
    }
    this.completeOperationAfter(
      op,
      latency.reimage,
      fail ? { code: 'VMProvisioningFailed', message: `${mode} failed` } : undefined,
    );
  }

  protected scheduleRegistration(set: WorldScaleSet, inst: WorldInstance, epoch: number): void {
    if (this.isUnhealthy(inst.imageId)) {
      this.event(
        set.kind === 'linux' ? 'github' : 'ado',
        `${inst.computerName} booted on unhealthy ${imageLabel(inst.imageId)}: it never registers`,
      );
      return;
    }
    this.clock.after(
      this.scenario.latency.register,
      () => {
        if (
          inst.epoch !== epoch ||
          !set.instances.has(inst.instanceId) ||
          inst.provisioningState !== 'Succeeded'
        )
          return;
        if (this.registersThroughBroker(set)) {
          if (this.brokeredBoot) this.brokeredBoot({ set, inst, epoch });
          else
            this.event(
              set.kind === 'linux' ? 'github' : 'ado',
              `${inst.computerName} has no registration broker to ask: it never registers`,
            );
          return;
        }
        if (!this.mayReadRegistrationSecret(set)) {
          this.event(
            set.kind === 'linux' ? 'github' : 'ado',
            `${inst.computerName} cannot read its registration secret (Key Vault 403): it never registers`,
          );
          return;
        }
        this.registerOnline(set, inst);
      },
      `register ${inst.computerName}`,
    );
  }

  /** kiln's instances in jit (GitHub) or broker (Azure DevOps) mode ask the broker; others read a PAT. */
  registersThroughBroker(set: WorldScaleSet): boolean {
    if (!set.managed) return false;
    const mode = this.scenario.registration;
    return set.kind === 'linux' ? mode.github === 'jit' : mode.ado === 'broker';
  }

  /** Whether a boot handed to the broker is still the instance's current one (not reimaged or deleted since). */
  bootIsCurrent(boot: BrokeredBoot): boolean {
    const { set, inst, epoch } = boot;
    return (
      inst.epoch === epoch && set.instances.has(inst.instanceId) && inst.provisioningState === 'Succeeded'
    );
  }

  /** An Azure DevOps agent configured with the secret the broker handed its instance: online under its computer name. */
  registerAgent(boot: BrokeredBoot): void {
    this.registerOnline(boot.set, boot.inst);
  }

  /** The instance's runner or agent comes online under its computer name, and jobs waiting for it start. */
  private registerOnline(set: WorldScaleSet, inst: WorldInstance): void {
    this.register(set, inst, this.clock.nowMs());
    this.event(set.kind === 'linux' ? 'github' : 'ado', `${inst.computerName} registered online`);
    this.wakePendingJobs(inst.name);
  }

  /**
   * A booting kiln instance reads its registration secret from Key Vault with its scale set's
   * identity (scale-set.bicep's runtime settings). Instances of scale sets outside kiln use their
   * owners' identities and secrets, which the simulation does not model.
   */
  protected mayReadRegistrationSecret(set: WorldScaleSet): boolean {
    if (!set.managed) return true;
    const who = this.access.identity(runnerIdentityRole(set.kind));
    return this.access.authorizeData(
      who,
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      `${this.keyVaultId()}/secrets/${REGISTRATION_SECRET[set.kind]}`,
    );
  }

  /**
   * How many registration secrets (the GitHub App key or PAT, the Azure DevOps PAT) a runner or
   * agent identity may read: what a job on a VM could steal through IMDS. 0 in jit/broker mode.
   */
  registrationSecretsReachableFromVms(): number {
    let reachable = 0;
    for (const kind of ['linux', 'windows'] as const) {
      const who = this.access.identity(runnerIdentityRole(kind));
      for (const secret of REGISTRATION_SECRETS)
        if (
          this.access.allows(
            who,
            'Microsoft.KeyVault/vaults/secrets/getSecret/action',
            `${this.keyVaultId()}/secrets/${secret}`,
            'data',
          )
        )
          reachable++;
    }
    return reachable;
  }

  /**
   * A PATCH of sku.capacity: more instances boot on the model; fewer go as ARM's Default scale-in
   * policy picks them (the highest instance ids, busy or not: why kiln never lowers capacity itself).
   */
  setCapacity(set: WorldScaleSet, capacity: number): void {
    const live = [...set.instances.values()].filter((i) => i.provisioningState !== 'Deleting');
    if (capacity === live.length) return;
    touchScaleSet(this, set, 'capacity change');
    set.etag++;
    if (capacity > live.length) {
      for (let i = live.length; i < capacity; i++) this.bootNewInstance(set);
      if (set.managed) this.meter.scaleOuts++;
      this.event(
        'arm',
        `${set.name} capacity ${live.length} → ${capacity}${this.kilnActs ? '' : ' — outside kiln'}`,
      );
      return;
    }
    const highest = live
      .sort((a, b) => Number(b.instanceId) - Number(a.instanceId))
      .slice(0, live.length - capacity)
      .map((i) => i.instanceId);
    this.event('arm', `${set.name} capacity ${live.length} → ${capacity}: ARM deletes ${highest.join(', ')}`);
    this.deleteInstances(set, highest, this.newOperation(), false);
  }

  deleteInstances(set: WorldScaleSet, ids: string[], op: AsyncOperation, fail: boolean): void {
    touchScaleSet(this, set, 'delete instances');
    // Deleting instances lowers the scale set's capacity (ARM answers sku.capacity as its instance count).
    if (set.managed && ids.length > 0) this.meter.scaleIns++;
    for (const id of ids) {
      const inst = set.instances.get(id)!;
      this.interruptJobOn(inst.name, 'instance deleted', 'arm');
      inst.epoch++;
      inst.provisioningState = 'Deleting';
      inst.powerState = 'stopped';
      this.setOffline(this.registrationOf(set, inst));
      const epoch = inst.epoch;
      this.clock.after(
        1,
        () => {
          if (inst.epoch !== epoch || fail) {
            if (fail) inst.provisioningState = 'Failed';
            return;
          }
          set.instances.delete(id);
          this.ledger.deleted.instances.push(inst.name);
          this.event('arm', `deleted instance ${inst.name}`);
        },
        `delete ${inst.name}`,
      );
    }
    this.completeOperationAfter(
      op,
      1,
      fail ? { code: 'InternalExecutionError', message: 'delete failed' } : undefined,
    );
  }

  /**
   * A new instance on the scale set's model: it provisions (`latency.provision`), boots and registers
   * (unless its image is bad).
   */
  protected bootNewInstance(set: WorldScaleSet): void {
    const inst = this.addInstance(set, this.clock.nowMs());
    inst.provisioningState = 'Creating';
    inst.powerState = 'starting';
    const epoch = inst.epoch;
    this.clock.after(
      this.scenario.latency.provision,
      () => {
        if (inst.epoch !== epoch || !set.instances.has(inst.instanceId)) return;
        inst.provisioningState = 'Succeeded';
        inst.powerState = 'running';
        inst.provisionedAt = this.clock.nowMs();
        this.scheduleRegistration(set, inst, epoch);
      },
      `create ${inst.name}`,
    );
  }
}
