/**
 * The fleet as an operator sees it (GET /api/fleet, the dashboard): managed scale sets with their
 * instances by image version and their runners/agents, and the gallery's versions per image with
 * their state. A pure function of what the clients read, so the shaping is tested without a cloud.
 */
import type {
  AdoAgent,
  GalleryImageVersionInfo,
  GitHubRunner,
  ScaleSet,
  ScaleSetInstance,
} from '../clients/types.js';
import {
  rolloutPaces,
  scaleSetCompliance,
  scaleSetDrift,
  type DriftVersion,
  type RolloutPace,
  type RunningRollout,
  type ScaleSetCompliance,
  type ScaleSetDrift,
} from './fleet-drift.js';
import { parseCapacityTags } from './capacity.js';
import { owningScaleSet, type Fleet } from './hygiene.js';
import { regionKey } from './regions.js';
import type { RunnerReleaseInfo } from './runner-compliance.js';
import { definitionOfImageReference, versionOfImageReference } from './rollout.js';
import { compareVersions, isGalleryVersion } from './versions.js';

export type ImageKind = 'linux' | 'windows';

export interface FleetScaleSetInput extends ScaleSet {
  image: ImageKind;
  fleet: Fleet;
}

export interface FleetInput {
  now: string;
  scaleSets: FleetScaleSetInput[];
  /** Instances per scale set id; undefined when they could not be read. */
  instances: Record<string, ScaleSetInstance[] | undefined>;
  /** undefined: the fleet is not configured or could not be read. */
  runners?: GitHubRunner[];
  agents?: AdoAgent[];
  gallery: { image: ImageKind; definition: string; versions?: GalleryImageVersionInfo[] }[];
  canaryTag: { name: string; value: string };
  /** The latest GitHub Actions runner release; undefined: no GitHub fleet, or it could not be read. */
  runnerRelease?: RunnerReleaseInfo;
  /** AGENT_VERSION, the agent kiln bakes into the Windows image ('' or undefined: the template's default). */
  agentVersion?: string;
  /** The rollouts running now, with the progress of each scale set they move; undefined: not read. */
  rollouts?: RunningRollout[];
  /** The autoscaler's last look, per scale set name; undefined: it has not looked (or could not be read). */
  autoscale?: { at: string; scaleSets: AutoscaleLook[] };
  /** What could not be read, one sentence each (the view is partial then). */
  errors: string[];
}

/** `latest` for a model or instance on the definition's latest version; `marketplace` for no gallery image. */
export type VersionLabel = string;

export interface RegistrationCounts {
  /** Registrations reported online (busy ones included). */
  online: number;
  /** Registrations running a job right now. */
  busy: number;
  offline: number;
}

export interface FleetScaleSetView {
  name: string;
  id: string;
  resourceGroup: string;
  region: string;
  image: ImageKind;
  fleet: Fleet;
  canary: boolean;
  orchestrationMode: string;
  upgradeMode?: string;
  capacity: number;
  /** The version the model points at (new and reimaged instances get it). */
  modelVersion: VersionLabel;
  instances: number;
  /** Instance counts per version, newest first. */
  instancesByVersion: { version: VersionLabel; count: number }[];
  runners: RegistrationCounts;
  /** Image age and versions behind per version it runs, and the pace of the rollout moving it (fleet-drift.ts). */
  drift: ScaleSetDrift;
  /** The runner or agent of each version it runs, and whether it is acceptable (runner-compliance.ts). */
  compliance: ScaleSetCompliance;
  /**
   * Capacity on demand: its capacity tags, and what the autoscaler's last look saw and did. Absent
   * when the scale set carries no capacity tag (its capacity is left alone).
   */
  autoscale?: FleetAutoscaleView;
}

/** What the autoscaler's last look says of one scale set (the orchestration's output, trimmed). */
export interface AutoscaleLook {
  scaleSet: string;
  desired: number;
  reason: string;
  queued?: number;
  counts: { busy: number; idle: number; booting: number; vacant: number; unknown: number; total: number };
  capacity?: { from: number; to: number };
  removed: string[];
  reimaged: string[];
  skipped?: string;
}

export interface FleetAutoscaleView {
  /** The capacity tags as parsed; `problems` instead when they are wrong (never scaled until fixed). */
  policy?: { min: number; max: number; warm: number; idleMinutes: number; warmSchedule: string[] };
  problems?: string[];
  /** The last look: when, demand (busy + queued), what it wanted and did. Absent before the first. */
  lastLook?: AutoscaleLook & { at: string };
}

export type GalleryVersionState = 'promoted' | 'excluded' | 'replicating' | 'rejected' | 'failed';

export interface GalleryVersionView {
  version: string;
  state: GalleryVersionState;
  /** kiln's own progress tag (kiln-state), when present. */
  kilnState?: string;
  excludeFromLatest: boolean;
  regions: { region: string; state?: string }[];
  publishedDate?: string;
  endOfLifeDate?: string;
  /** Scale sets whose model points at this version. */
  usedBy: string[];
}

export interface FleetView {
  generatedAt: string;
  scaleSets: FleetScaleSetView[];
  images: { image: ImageKind; definition: string; versions: GalleryVersionView[] }[];
  /** The latest GitHub Actions runner release, when known. */
  runnerRelease?: RunnerReleaseInfo;
  /** AGENT_VERSION ('' when unset: the template's default). */
  agentVersion: string;
  /** Each running rollout's pace and when its whole fleet is done at that pace; absent when they could not be read. */
  rollouts?: RolloutPace[];
  errors: string[];
}

export function versionLabel(imageReferenceId: string | undefined): VersionLabel {
  const version = versionOfImageReference(imageReferenceId);
  if (version) return version;
  return definitionOfImageReference(imageReferenceId) ? 'latest' : 'marketplace';
}

/** Newest first; labels that are not versions (latest, marketplace) go last. */
function compareLabels(a: string, b: string): number {
  const va = isGalleryVersion(a);
  const vb = isGalleryVersion(b);
  if (va && vb) return compareVersions(b, a);
  if (va !== vb) return va ? -1 : 1;
  return a.localeCompare(b);
}

export function galleryVersionState(version: GalleryImageVersionInfo): GalleryVersionState {
  if (version.tags['kiln-state'] === 'rejected') return 'rejected';
  const provisioning = version.provisioningState ?? 'Succeeded';
  if (provisioning === 'Failed' || version.replication?.aggregatedState === 'Failed') return 'failed';
  if (
    provisioning === 'Creating' ||
    provisioning === 'Updating' ||
    (version.replication && version.replication.aggregatedState !== 'Completed')
  )
    return 'replicating';
  return version.excludeFromLatest ? 'excluded' : 'promoted';
}

function countRegistrations(
  scaleSets: FleetScaleSetInput[],
  registrations: { name: string; status: 'online' | 'offline'; busy: boolean }[] | undefined,
): Map<string, RegistrationCounts> {
  const counts = new Map<string, RegistrationCounts>();
  for (const s of scaleSets) counts.set(s.id, { online: 0, busy: 0, offline: 0 });
  for (const reg of registrations ?? []) {
    // Same rule as hygiene (S2): a registration belongs to a scale set only by its exact computer-name shape.
    const owner = owningScaleSet(scaleSets, reg.name);
    if (!owner) continue;
    const c = counts.get(owner.id)!;
    if (reg.status === 'online') c.online++;
    else c.offline++;
    if (reg.busy) c.busy++;
  }
  return counts;
}

export function shapeFleet(input: FleetInput): FleetView {
  const github = countRegistrations(
    input.scaleSets.filter((s) => s.fleet === 'github'),
    input.runners,
  );
  const ado = countRegistrations(
    input.scaleSets.filter((s) => s.fleet === 'ado'),
    input.agents,
  );

  const galleryOf = (s: FleetScaleSetInput): DriftVersion[] => {
    const definition = definitionOfImageReference(s.imageReferenceId)?.toLowerCase();
    const image =
      input.gallery.find((g) => g.definition.toLowerCase() === definition) ??
      input.gallery.find((g) => g.image === s.image);
    return (image?.versions ?? []).map((v) => ({
      version: v.name,
      state: galleryVersionState(v),
      tags: v.tags,
      ...(v.publishedDate ? { publishedDate: v.publishedDate } : {}),
    }));
  };
  const rollouts = input.rollouts ?? [];
  const agentVersion = input.agentVersion ?? '';

  const scaleSets = input.scaleSets
    .map((s): FleetScaleSetView => {
      const instances = input.instances[s.id] ?? [];
      const byVersion = new Map<string, number>();
      for (const i of instances) {
        const label = versionLabel(i.imageReferenceId ?? s.imageReferenceId);
        byVersion.set(label, (byVersion.get(label) ?? 0) + 1);
      }
      const instancesByVersion = [...byVersion.entries()]
        .map(([version, count]) => ({ version, count }))
        .sort((a, b) => compareLabels(a.version, b.version));
      const versions = galleryOf(s);
      const viewed = { name: s.name, image: s.image, instancesByVersion };
      return {
        name: s.name,
        id: s.id,
        resourceGroup: s.resourceGroup,
        region: s.location,
        image: s.image,
        fleet: s.fleet,
        canary: s.tags[input.canaryTag.name] === input.canaryTag.value,
        orchestrationMode: s.orchestrationMode,
        ...(s.upgradeMode ? { upgradeMode: s.upgradeMode } : {}),
        capacity: s.capacity,
        modelVersion: versionLabel(s.imageReferenceId),
        instances: instances.length,
        instancesByVersion,
        runners: (s.fleet === 'github' ? github : ado).get(s.id)!,
        drift: scaleSetDrift({ scaleSet: viewed, versions, rollouts, now: input.now }),
        compliance: scaleSetCompliance({
          scaleSet: viewed,
          versions,
          runnerRelease: input.runnerRelease,
          agentVersion,
          now: input.now,
        }),
        ...autoscaleView(s, input.autoscale),
      };
    })
    .sort((a, b) => a.image.localeCompare(b.image) || a.name.localeCompare(b.name));

  const images = input.gallery.map(({ image, definition, versions }) => ({
    image,
    definition,
    versions: (versions ?? [])
      .map((v): GalleryVersionView => {
        const replication = new Map(
          (v.replication?.regions ?? []).map((r) => [regionKey(r.region), r.state] as const),
        );
        const kilnState = v.tags['kiln-state'];
        return {
          version: v.name,
          state: galleryVersionState(v),
          ...(kilnState ? { kilnState } : {}),
          excludeFromLatest: v.excludeFromLatest,
          regions: v.targetRegions.map((r) => {
            const state = replication.get(regionKey(r.name));
            return { region: r.name, ...(state ? { state } : {}) };
          }),
          ...(v.publishedDate ? { publishedDate: v.publishedDate } : {}),
          ...(v.endOfLifeDate ? { endOfLifeDate: v.endOfLifeDate } : {}),
          usedBy: scaleSets
            .filter(
              (s) =>
                s.modelVersion === v.name &&
                definitionOfImageReference(input.scaleSets.find((x) => x.id === s.id)?.imageReferenceId) ===
                  definition,
            )
            .map((s) => s.name),
        };
      })
      .sort((a, b) => compareLabels(a.version, b.version)),
  }));

  return {
    generatedAt: input.now,
    scaleSets,
    images,
    ...(input.runnerRelease ? { runnerRelease: input.runnerRelease } : {}),
    agentVersion,
    ...(input.rollouts ? { rollouts: rolloutPaces({ rollouts, scaleSets, now: input.now }) } : {}),
    errors: [...input.errors],
  };
}

function autoscaleView(
  s: FleetScaleSetInput,
  looks: FleetInput['autoscale'],
): { autoscale?: FleetAutoscaleView } {
  const parsed = parseCapacityTags(s.tags);
  if (parsed.ok && !parsed.policy) return {};
  const look = looks?.scaleSets.find((l) => l.scaleSet === s.name);
  const view: FleetAutoscaleView = parsed.ok
    ? {
        policy: {
          min: parsed.policy!.min,
          max: parsed.policy!.max,
          warm: parsed.policy!.warm,
          idleMinutes: parsed.policy!.idleMinutes,
          warmSchedule: parsed.policy!.warmSchedule.map((w) => w.text),
        },
      }
    : { problems: parsed.problems };
  if (look && looks) view.lastLook = { ...look, at: looks.at };
  return { autoscale: view };
}
