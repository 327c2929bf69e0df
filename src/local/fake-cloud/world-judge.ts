/**
 * The safety invariants the fake cloud judges as kiln writes (the simulator judges the rest from the
 * flows' outputs, src/local/simulate/invariants.ts): S2 a write outside kiln's scope, S3 a version
 * deleted while used or among the newest kept, S4 a bad version made latest or spread, S5 a second
 * Packer build of an image, S8 a model or instance moved back other than by kiln's own undo. Each is
 * judged from the world's truth, whatever kiln reports; what someone else does never counts.
 */
import { compareVersions } from '../../domain/versions.js';
import type { ImageKind } from '../scenario/types.js';
import type { WorldState } from './world-state.js';
import {
  versionOf,
  type Actor,
  type WorldGalleryVersion,
  type WorldInstance,
  type WorldScaleSet,
} from './world-types.js';

export function touchScaleSet(world: WorldState, set: WorldScaleSet, what: string): void {
  if (!set.managed && world.kilnActs)
    foreignTouch(world, 'arm', set.name, `${what} on unmanaged scale set ${set.name}`);
}

export function foreignTouch(world: WorldState, service: string, subject: string, what: string): void {
  world.ledger.foreignTouched++;
  world.event(service, `FOREIGN WRITE: ${what}`);
  world.violate('S2', subject, `kiln wrote to something outside its scope: ${what}`);
}

/**
 * S8 forward only: kiln moves a model to an older version than one it ran only to undo its own last
 * change of it. S4: kiln points a bad version at one scale set at most (its canary or lead).
 */
export function judgeModelChange(world: WorldState, set: WorldScaleSet, fromId: string, toId: string): void {
  const from = versionOf(fromId);
  const to = versionOf(toId);
  delete set.rolledBackTo;
  if (!world.kilnActs) {
    set.ranSince = new Set(to ? [to] : []);
    set.lastModelChange = from && to ? { from, to, by: 'outside' } : undefined;
    return;
  }
  if (to) {
    const newest = [...set.ranSince].sort(compareVersions).at(-1);
    const undo =
      set.lastModelChange?.by === 'kiln' &&
      set.lastModelChange.from === to &&
      set.lastModelChange.to === from;
    if (newest && compareVersions(to, newest) < 0) {
      // An undo puts the scale set back as if the undone version never ran.
      if (undo) {
        set.rolledBackTo = to;
        if (from) set.ranSince.delete(from);
      } else
        world.violate(
          'S8',
          set.name,
          `model moved back to ${to} (from ${from ?? fromId}) although it ran ${newest} in this run, and not to undo kiln's own last change`,
        );
    }
    if (world.isUnhealthy(toId)) {
      const key = toId.toLowerCase();
      const reach = world.badVersionReach.get(key) ?? new Set<string>();
      reach.add(set.name);
      world.badVersionReach.set(key, reach);
      if (reach.size > 1)
        world.violate(
          'S4',
          set.name,
          `the bad version ${to} reached a second scale set (${[...reach].join(', ')})`,
        );
    }
    set.ranSince.add(to);
  }
  set.lastModelChange = from && to ? { from, to, by: 'kiln' } : undefined;
}

/** S8 for instances: kiln moves an instance to an older version only to follow its own rollback of the model. */
export function judgeInstanceMove(
  world: WorldState,
  set: WorldScaleSet,
  inst: WorldInstance,
  toId: string,
  by: Actor,
): void {
  const from = versionOf(inst.imageId);
  const to = versionOf(toId);
  if (!from || !to || from === to) return;
  const last = inst.lastMove;
  inst.lastMove = { from, to, by };
  if (by !== 'kiln' || compareVersions(to, from) >= 0 || set.rolledBackTo === to) return;
  // Kiln undoing its own last move of this instance (its model moved back meanwhile, by anyone).
  if (last?.by === 'kiln' && last.from === to && last.to === from) return;
  world.violate(
    'S8',
    inst.name,
    `instance moved back from ${from} to ${to}, not by a rollback of kiln's own change`,
  );
}

/** S4: kiln never makes a bad version latest. */
export function judgeMadeLatest(world: WorldState, version: WorldGalleryVersion): void {
  if (world.kilnActs && world.isUnhealthy(world.versionId(version.kind, version.name)))
    world.violate('S4', `${version.definition}/${version.name}`, 'kiln made a bad version latest');
}

/**
 * S3, on the gallery as it is before `version` is deleted: kiln deletes no version a scale set model
 * or instance uses, nor one of the newest `pruneKeep`. Returns the scale sets that use it.
 */
export function judgeVersionDelete(world: WorldState, version: WorldGalleryVersion): string[] {
  const id = world.versionId(version.kind, version.name).toLowerCase();
  const users = [...world.scaleSets.values()]
    .filter(
      (s) =>
        s.imageId.toLowerCase() === id ||
        [...s.instances.values()].some((i) => i.imageId.toLowerCase() === id),
    )
    .map((s) => s.name);
  // The newest `pruneKeep` versions of the image, before this delete (S3).
  const newest = [...world.versions.values()]
    .filter((v) => v.kind === version.kind)
    .map((v) => v.name)
    .sort(compareVersions)
    .slice(-world.pruneKeep);
  const subject = `${version.definition}/${version.name}`;
  if (world.kilnActs && users.length > 0)
    world.violate('S3', subject, `deleted while scale sets use it (${users.join(', ')})`);
  // A version created in this run that never became latest is its publisher's own unfinished work.
  const ownUnfinished = version.createdInRun && !version.everLatest;
  if (world.kilnActs && !ownUnfinished && newest.includes(version.name))
    world.violate(
      'S3',
      subject,
      `deleted although it is among the newest ${world.pruneKeep} versions (${newest.join(', ')})`,
    );
  return users;
}

/** S5: no second Packer build of an image while one runs. */
export function judgeSecondBuild(world: WorldState, kind: ImageKind): void {
  const running = [...world.executions.values()].find((e) => e.kind === kind && e.status === 'Running');
  if (running)
    world.violate('S5', `${kind} image`, `a second Packer build started while ${running.name} still runs`);
}
