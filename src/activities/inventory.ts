/**
 * Read-only activities that observe the fleet: managed scale sets, their instances, GitHub runners
 * and Azure DevOps agents. Each returns plain JSON for the orchestration history (no secrets).
 */
import type { AdoAgent, GitHubRunner, ScaleSet, ScaleSetInstance } from '../clients/types.js';
import type { Fleet } from '../domain/hygiene.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export interface ManagedScaleSet extends ScaleSet {
  fleet: Fleet;
  image: 'linux' | 'windows';
  /** Tagged `kiln-recycle=true`: each instance serves one job, then hygiene reimages it. */
  recycle: boolean;
}

export type ListManagedScaleSetsOutput = ActivityResult<ManagedScaleSet[]>;

/** Scale sets in kiln's scope (S2): tagged as managed, or listed in SCALE_SET_IDS. */
export function createListManagedScaleSetsActivity({ arm, settings }: ActivityDeps) {
  return (): Promise<ListManagedScaleSetsOutput> =>
    attempt('list managed scale sets', async () => {
      const { name, value } = settings.managedTag;
      let scaleSets: ScaleSet[];
      if (settings.scaleSetIds.length > 0) {
        const found = await Promise.all(settings.scaleSetIds.map((id) => arm.getScaleSet(id)));
        scaleSets = found.filter((s): s is ScaleSet => s !== undefined);
      } else {
        scaleSets = await arm.listScaleSetsByTag({ name, value });
      }
      return scaleSets
        .filter((s) => settings.scaleSetIds.length > 0 || s.tags[name] === value)
        .map((s) => {
          const image = imageOf(s);
          return {
            ...s,
            image,
            fleet: image === 'linux' ? 'github' : 'ado',
            recycle: s.tags[RECYCLE_TAG]?.toLowerCase() === 'true',
          } satisfies ManagedScaleSet;
        })
        .sort((a, b) => a.name.localeCompare(b.name));
    });
}

function imageOf(scaleSet: ScaleSet): 'linux' | 'windows' {
  const tagged = scaleSet.tags['kiln-image']?.toLowerCase();
  if (tagged === 'linux' || tagged === 'windows') return tagged;
  return scaleSet.osType === 'Windows' ? 'windows' : 'linux';
}

/** The tag infra/main.bicep puts on each scale set it deploys: `true` when each machine serves one job. */
export const RECYCLE_TAG = 'kiln-recycle';

/** The tag infra/main.bicep puts on each scale set it deploys: how the scale set's VMs register. */
export const REGISTRATION_TAG = 'kiln-registration';

/**
 * How a managed scale set's VMs register, as its REGISTRATION_TAG says. `pat`: they read a PAT
 * from Key Vault with the scale set's identity. `broker`: they ask kiln's registration broker
 * (tagged `jit` on a GitHub runner fleet, `broker` on an Azure DevOps agent pool), so nothing on
 * them needs a secret. `unknown`: any other value, with the values that would be valid.
 */
export type RegistrationMode =
  { via: 'pat' } | { via: 'broker'; tag: string } | { via: 'unknown'; tag: string; valid: readonly string[] };

export function registrationOf(scaleSet: Pick<ManagedScaleSet, 'fleet' | 'tags'>): RegistrationMode {
  const tag = scaleSet.tags[REGISTRATION_TAG];
  // Scale sets deployed before the tag existed registered with a PAT: the only way there was.
  if (tag === undefined) return { via: 'pat' };
  const brokerTag = scaleSet.fleet === 'github' ? 'jit' : 'broker';
  const value = tag.trim().toLowerCase();
  if (value === 'pat') return { via: 'pat' };
  if (value === brokerTag) return { via: 'broker', tag: brokerTag };
  return { via: 'unknown', tag, valid: [brokerTag, 'pat'] };
}

export interface ListScaleSetInstancesInput {
  scaleSetId: string;
}
export type ListScaleSetInstancesOutput = ActivityResult<ScaleSetInstance[]>;

export function createListScaleSetInstancesActivity({ arm, metrics }: ActivityDeps) {
  return (input: ListScaleSetInstancesInput): Promise<ListScaleSetInstancesOutput> =>
    attempt(`list instances of ${input.scaleSetId}`, async () => {
      const instances = await arm.listInstances(input.scaleSetId);
      metrics.fleetInstances(scaleSetName(input.scaleSetId), instances);
      return instances;
    });
}

/** A scale set's name from its resource id, as metrics name it (never a failure: a metric must not fail a flow). */
export function scaleSetName(scaleSetId: string): string {
  return /\/virtualMachineScaleSets\/([^/]+)/i.exec(scaleSetId)?.[1] ?? scaleSetId;
}

export type ListGitHubRunnersOutput = ActivityResult<GitHubRunner[] | null>;

/** null when no GitHub fleet is configured. */
export function createListGitHubRunnersActivity({ github }: ActivityDeps) {
  return (): Promise<ListGitHubRunnersOutput> =>
    attempt('list GitHub runners', async () => (github ? await github.listRunners() : null));
}

export type ListAdoAgentsOutput = ActivityResult<AdoAgent[] | null>;

/** null when no Azure DevOps fleet is configured. */
export function createListAdoAgentsActivity({ ado }: ActivityDeps) {
  return (): Promise<ListAdoAgentsOutput> =>
    attempt('list Azure DevOps agents', async () => (ado ? await ado.listAgents() : null));
}
