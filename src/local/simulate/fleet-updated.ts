/**
 * When each image's fleet first ran a version entirely: every live instance of the image's managed
 * scale sets provisioned on it (reimaged or created on it, not in the middle of an operation). The
 * simulator looks after each step of the virtual clock; the report's `fleetUpdatedAt` is the first
 * time this held for the version a rebuild promoted.
 */
import { versionOfImageReference } from '../../domain/rollout.js';
import type { ImageKind } from '../scenario/types.js';
import type { WorldState } from '../fake-cloud/world-state.js';

export class FleetUpdateWatch {
  /** `<image>/<version>` → virtual ms when the whole fleet first ran it. */
  private readonly firstAt = new Map<string, number>();

  constructor(private readonly world: WorldState) {}

  look(now: number): void {
    for (const image of ['linux', 'windows'] as ImageKind[]) {
      const version = this.sharedVersion(image);
      const key = `${image}/${version}`;
      if (version && !this.firstAt.has(key)) this.firstAt.set(key, now);
    }
  }

  /** When the image's fleet first ran `version` entirely, if it ever did. */
  at(image: ImageKind, version: string): number | undefined {
    return this.firstAt.get(`${image}/${version}`);
  }

  /** The version every live instance of the image's managed scale sets runs, if they all run one. */
  private sharedVersion(image: ImageKind): string | undefined {
    let shared: string | undefined;
    for (const set of this.world.scaleSets.values()) {
      if (!set.managed || set.kind !== image) continue;
      for (const inst of set.instances.values()) {
        if (inst.provisioningState === 'Deleting') continue;
        if (inst.provisioningState !== 'Succeeded') return undefined;
        const version = versionOfImageReference(inst.imageId);
        if (!version || (shared !== undefined && version !== shared)) return undefined;
        shared = version;
      }
    }
    return shared;
  }
}
