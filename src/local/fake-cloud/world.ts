/**
 * The state of the fake cloud: scale sets and their instances, GitHub runners, Azure DevOps agents,
 * gallery versions, Packer job executions and the jobs that keep runners busy, plus the ledger that
 * the simulator's report and the safety checks read. Built from a parsed Scenario; everything that
 * takes time in Azure is scheduled on the shared VirtualClock (never on real timers).
 *
 * The HTTP fakes (arm.ts, github.ts, ado.ts) only translate requests into the World's methods, so
 * the semantics live in one place, layered one family a file (world-state.ts says which):
 * - a reimage or manual upgrade takes the instance down (runner/agent offline) for
 *   `latency.reimage` minutes; it then registers again with the same name `latency.register`
 *   minutes later, unless it now runs an unhealthy image version;
 * - a job keeps its instance's runner/agent busy; reimaging, upgrading or deleting the instance, or
 *   deleting the agent, while the job runs counts as an interrupted job (GitHub itself refuses to
 *   delete a busy runner);
 * - any write to a registration or scale set outside kiln's scope counts as a foreign touch.
 */
import type { VirtualClock } from '../clock.js';
import type { ImageKind, Scenario, ScenarioChange, ScenarioScaleSet } from '../scenario/types.js';
import { SOFTWARE_REPORT_TAG, softwareReportBlobs } from '../../domain/software-report.js';
import { runnerIdentityRole } from './access.js';
import { fakeSoftwareReport, softwareReportMarkdown } from './software-reports.js';
import { WorldGallery } from './world-gallery.js';
import {
  MINUTE,
  toBase36Id,
  type WorldJob,
  type WorldNames,
  type WorldRunner,
  type WorldScaleSet,
} from './world-types.js';

export * from './world-types.js';
export { inferKind, templateEnv } from './world-gallery.js';

/**
 * The fake cloud's world, built from a scenario: the state (world-state.ts) with every family of
 * lifecycles layered on it; here the initial fleet and the scenario's outside changes.
 */
export class World extends WorldGallery {
  constructor(scenario: Scenario, clock: VirtualClock, names: Partial<WorldNames> = {}) {
    super(scenario, clock, names);
    this.build();
  }

  // ---------------------------------------------------------------- initial state

  private build(): void {
    const s = this.scenario;
    const now = this.clock.nowMs();
    const galleryLocation = s.gallery.regions[0] ?? 'westeurope';
    for (const kind of ['linux', 'windows'] as ImageKind[]) {
      for (const v of s.gallery.existingVersions[kind] ?? []) {
        const tags = { ...s.gallery.versionTags?.[kind]?.[v] };
        // Each promoted version says what it holds; a scenario may set the tag itself (empty: none).
        if (!(SOFTWARE_REPORT_TAG in tags))
          tags[SOFTWARE_REPORT_TAG] = this.storeExistingReport(kind, v, tags, now - 30 * 24 * 60 * MINUTE);
        this.versions.set(this.versionKey(kind, v), {
          kind,
          definition: this.names.definitions[kind],
          name: v,
          location: galleryLocation,
          tags,
          targetRegions: s.gallery.regions.map((r) => ({
            name: r,
            regionalReplicaCount: 1,
            storageAccountType: 'Standard_LRS',
            excludeFromLatest: false,
          })),
          replicaCount: 1,
          storageAccountType: 'Standard_LRS',
          excludeFromLatest: false,
          publishedDate: now - 30 * 24 * 60 * MINUTE,
          provisioningState: 'Succeeded',
          replication: s.gallery.regions.map((r) => ({
            region: r,
            state: 'Completed',
            startedAt: now,
            doneAt: now,
            details: '',
          })),
          createdInRun: false,
          everLatest: true,
        });
      }
    }

    const windowsPrefixes = new Set<string>();
    s.scaleSets.forEach((ss, index) => {
      const id = this.scaleSetId(ss.name);
      const prefix = ss.image === 'linux' ? `${ss.name}-` : windowsPrefix(ss.name, index, windowsPrefixes);
      const tags: Record<string, string> = { 'kiln-image': ss.image };
      if (ss.managed) tags['kiln-managed'] = 'true';
      if (ss.canary) tags['kiln-canary'] = 'true';
      if (ss.recycle) tags['kiln-recycle'] = 'true';
      Object.assign(tags, capacityTags(ss));
      // As infra/main.bicep tags kiln's scale sets with the registration mode their VMs use.
      if (ss.managed)
        tags['kiln-registration'] = ss.image === 'linux' ? s.registration.github : s.registration.ado;
      const imageId = this.versionId(ss.image, ss.version);
      const set: WorldScaleSet = {
        id,
        name: ss.name,
        resourceGroup: this.names.runnersResourceGroup,
        location: ss.region,
        kind: ss.image,
        managed: ss.managed,
        canary: ss.canary,
        tags,
        computerNamePrefix: prefix,
        imageId,
        instances: new Map(),
        nextInstanceId: 0,
        vmSize: 'Standard_D4s_v5',
        orchestrationMode: 'Uniform',
        upgradeMode: 'Manual',
        etag: 1,
        ranSince: new Set([ss.version]),
      };
      this.scaleSets.set(ss.name.toLowerCase(), set);
      for (let i = 0; i < ss.capacity; i++) {
        const inst = this.addInstance(set, now - 24 * 60 * MINUTE);
        this.register(set, inst, now - 24 * 60 * MINUTE + 3 * MINUTE);
        // A jit-mode fleet's runners came from the broker's JIT configs: ephemeral, one job each.
        const runner =
          set.kind === 'linux' && this.registersThroughBroker(set) && this.registrationOf(set, inst);
        if (runner && 'busy' in runner) {
          runner.ephemeral = true;
          runner.jit = { secret: this.uuid(), started: true };
        }
      }
    });

    this.addGhosts();
    this.addForeign();

    s.jobs.forEach((j) => {
      const job: WorldJob = {
        id: this.jobs.length + 1,
        instance: j.instance,
        minutes: j.minutes,
        state: 'scheduled',
        ...(j.race ? { race: { ...j.race } } : {}),
      };
      this.jobs.push(job);
      this.clock.after(
        j.startAfterMinutes,
        () => {
          if (!job.race) return this.tryStartJob(job);
          job.state = 'armed';
          this.event(
            'sim',
            `job on ${job.instance} waits for kiln's next ${job.race.service} ${job.race.operation}`,
          );
        },
        `job ${j.instance} starts`,
      );
    });
    if (s.workload) this.startWorkload(s.workload);
  }

  /**
   * The report an existing version's build stored (its runner or agent as its tags say, the toolset's
   * tools): its JSON blob's name, for the version's kiln-software-report tag.
   */
  private storeExistingReport(
    kind: ImageKind,
    version: string,
    tags: Record<string, string>,
    builtAt: number,
  ): string {
    const baked = tags[kind === 'linux' ? 'kiln-runner-version' : 'kiln-agent-version'];
    const report = fakeSoftwareReport(kind, {
      generatedAt: new Date(builtAt).toISOString(),
      agentVersion: baked && /^\d+\.\d+\.\d+$/.test(baked) ? baked : undefined,
    });
    const blobs = softwareReportBlobs(this.names.definitions[kind], version);
    const container = this.names.softwareReportsContainer;
    this.blobs.put(container, blobs.markdown, Buffer.from(softwareReportMarkdown(report)), 'text/markdown');
    this.blobs.put(container, blobs.json, Buffer.from(JSON.stringify(report, null, 2)), 'application/json');
    return blobs.json;
  }

  private addGhosts(): void {
    const now = this.clock.nowMs();
    for (const kind of ['linux', 'windows'] as ImageKind[]) {
      const count = kind === 'linux' ? this.scenario.ghosts.github : this.scenario.ghosts.ado;
      const sets = [...this.scaleSets.values()].filter((s) => s.kind === kind && s.managed);
      for (let k = 0; k < count; k++) {
        const set = sets.length > 0 ? sets[k % sets.length]! : undefined;
        // Instance ids past the current capacity never existed in this run: their VMs are gone.
        const ghostId = set ? set.nextInstanceId + 100 + Math.floor(k / Math.max(sets.length, 1)) : 500 + k;
        const prefix = set ? set.computerNamePrefix : kind === 'linux' ? 'vmss-gh-gone-' : 'adogone';
        const name = `${prefix}${toBase36Id(ghostId)}`;
        const offlineSince = new Date(now - (90 + k * 7) * MINUTE).toISOString();
        if (kind === 'linux') {
          const r = this.newRunner(name, 'linux', 'offline', set?.name);
          this.runners.set(r.id, r);
        } else {
          const id = this.nextAgentId++;
          this.agents.set(id, this.newAgent(id, name, 'offline', offlineSince, false));
        }
      }
    }
  }

  private addForeign(): void {
    const now = this.clock.nowMs();
    for (let i = 0; i < this.scenario.foreign.github; i++) {
      const os: WorldRunner['os'] = i % 2 === 0 ? 'macos' : 'linux';
      const name =
        i % 2 === 0
          ? `mac-build-${String(i + 1).padStart(2, '0')}`
          : `gpu-runner-${String(i + 1).padStart(2, '0')}`;
      const r = this.newRunner(name, os, i % 3 === 1 ? 'offline' : 'online', undefined, true);
      if (i === 0) r.busy = true;
      this.runners.set(r.id, r);
    }
    for (let i = 0; i < this.scenario.foreign.ado; i++) {
      const id = this.nextAgentId++;
      const status = i % 3 === 1 ? 'offline' : 'online';
      const agent = this.newAgent(
        id,
        `build-agent-${String(i + 1).padStart(2, '0')}`,
        status,
        new Date(now - 300 * MINUTE).toISOString(),
        true,
      );
      if (i === 0) agent.assignedRequest = this.newRequest(now - 20 * MINUTE);
      this.agents.set(id, agent);
    }
  }

  // ---------------------------------------------------------------- outside changes

  /**
   * Applies one of the scenario's outside changes (not `event`: Event Grid deliveries are the
   * simulator's). Whatever kiln's view of the world was, it is stale now.
   */
  applyChange(change: Exclude<ScenarioChange, { action: 'event' }>): void {
    this.asOutside(() => {
      const set = 'scaleSet' in change ? this.findScaleSet(change.scaleSet) : undefined;
      const missing = (what: string) =>
        this.event('sim', `outside change ${change.action} skipped: ${what} no longer exists`);
      switch (change.action) {
        case 'scaleOut': {
          if (!set) return missing(change.scaleSet);
          for (let i = 0; i < change.count; i++) this.bootNewInstance(set);
          if (set.managed) this.meter.scaleOuts++;
          this.event('sim', `${set.name} scaled out by ${change.count} outside kiln`);
          return;
        }
        case 'scaleIn': {
          if (!set) return missing(change.scaleSet);
          const newest = [...set.instances.values()]
            .filter((i) => i.provisioningState !== 'Deleting')
            .sort((a, b) => Number(b.instanceId) - Number(a.instanceId))
            .slice(0, change.count);
          this.event('sim', `${set.name} scaled in by ${newest.length} outside kiln`);
          if (newest.length > 0)
            this.deleteInstances(
              set,
              newest.map((i) => i.instanceId),
              this.newOperation(),
              false,
            );
          return;
        }
        case 'deleteInstance': {
          const found = this.instanceByVmName(change.instance);
          if (!found) return missing(change.instance);
          this.event('sim', `${change.instance} deleted outside kiln`);
          this.deleteInstances(found.set, [found.inst.instanceId], this.newOperation(), false);
          return;
        }
        case 'setModel': {
          if (!set) return missing(change.scaleSet);
          if (!this.versions.has(this.versionKey(set.kind, change.version)))
            return missing(`version ${change.version}`);
          this.updateModel(set, { imageId: this.versionId(set.kind, change.version) });
          if (change.upgradeInstances) {
            const idle = [...set.instances.values()].filter(
              (i) =>
                !i.latestModelApplied && i.provisioningState === 'Succeeded' && !this.runningJobOn(i.name),
            );
            if (idle.length > 0)
              this.rebuildInstances(
                set,
                idle.map((i) => i.instanceId),
                'upgrade',
                this.newOperation(),
                false,
              );
          }
          return;
        }
        case 'deleteScaleSet': {
          if (!set) return missing(change.scaleSet);
          for (const inst of set.instances.values()) {
            this.interruptJobOn(inst.name, 'scale set deleted', 'arm');
            inst.epoch++;
            this.setOffline(this.registrationOf(set, inst));
            this.ledger.deleted.instances.push(inst.name);
          }
          this.scaleSets.delete(set.name.toLowerCase());
          this.event('sim', `scale set ${set.name} deleted outside kiln`);
          return;
        }
        case 'deleteVersion': {
          const v = this.versions.get(this.versionKey(change.image, change.version));
          if (!v) return missing(`version ${change.version}`);
          this.deleteVersion(v);
          return;
        }
        case 'publish': {
          if (this.versions.has(this.versionKey(change.image, change.version))) return;
          this.createOrUpdateVersion(
            change.image,
            change.version,
            {
              location: this.scenario.gallery.regions[0]!,
              targetRegions: this.scenario.gallery.regions.map((name) => ({
                name,
                regionalReplicaCount: 1,
                storageAccountType: 'Standard_LRS',
                excludeFromLatest: change.excludeFromLatest,
              })),
              excludeFromLatest: change.excludeFromLatest,
              tags: { publishedBy: 'platform-team' },
              replicaCount: 1,
              storageAccountType: 'Standard_LRS',
              unhealthy: change.unhealthy,
            },
            this.newOperation(),
            new Set(),
          );
          return;
        }
        case 'promote': {
          const v = this.versions.get(this.versionKey(change.image, change.version));
          if (!v) return missing(`version ${change.version}`);
          this.setExcludeFromLatest(v, false);
          this.event('sim', `${v.definition}/${v.name} made latest outside kiln`);
          return;
        }
      }
    });
  }

  // ---------------------------------------------------------------- managed identities

  /**
   * The user-assigned identity a scale set's instances run with (the fake ARM shows it on the
   * model, the fake IMDS issues its tokens): kiln's runner or agent identity for a managed scale
   * set (infra/main.bicep), the owner's own for any other.
   */
  scaleSetIdentity(set: WorldScaleSet): { resourceId: string; principalId: string; clientId: string } {
    if (set.managed) {
      const { resourceId, principalId, clientId } = this.access.identity(runnerIdentityRole(set.kind));
      return { resourceId, principalId, clientId };
    }
    return {
      resourceId: `/subscriptions/${this.names.subscriptionId}/resourceGroups/${set.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${set.name}`,
      principalId: '44444444-4444-4444-8444-000000000001',
      clientId: '44444444-4444-4444-8444-000000000002',
    };
  }
}

function windowsPrefix(name: string, index: number, used: Set<string>): string {
  const base =
    name
      .replace(/^vmss-?/i, '')
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()
      .slice(0, 7) || 'win';
  let prefix = `${base}${index.toString(36)}`.slice(0, 9);
  let n = 0;
  while (used.has(prefix)) prefix = `${base.slice(0, 6)}${(n++).toString(36)}`.slice(0, 9);
  used.add(prefix);
  return prefix;
}

/** A scenario scale set's `autoscale` as the capacity tags kiln reads (src/domain/capacity.ts). */
function capacityTags(ss: ScenarioScaleSet): Record<string, string> {
  const a = ss.autoscale;
  if (!a) return {};
  const tags: Record<string, string> = {};
  if (a.min !== undefined) tags['kiln-min'] = String(a.min);
  if (a.max !== undefined) tags['kiln-max'] = String(a.max);
  if (a.warm !== undefined) tags['kiln-warm'] = String(a.warm);
  if (a.warmSchedule !== undefined) tags['kiln-warm-schedule'] = a.warmSchedule;
  if (a.idleMinutes !== undefined) tags['kiln-idle-minutes'] = String(a.idleMinutes);
  if (a.labels !== undefined) tags['kiln-labels'] = a.labels.join(',');
  // An autoscale block with none of the enabling tags still asks for autoscaling: min 0.
  if (!('kiln-min' in tags || 'kiln-max' in tags || 'kiln-warm' in tags || 'kiln-warm-schedule' in tags))
    tags['kiln-min'] = '0';
  return tags;
}
