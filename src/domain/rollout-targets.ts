/**
 * Rollout decisions across scale sets, pure: which scale sets a rollout or a rebuild moves, in which
 * order, which one goes first (the lead, or a rebuild's canary), how the rest group by region, and
 * how the rollout as a whole ended from how each scale set did.
 */
import { definitionOfImageReference } from './rollout.js';

/** What these decisions read of a scale set (a managed scale set has more). */
export interface TargetScaleSet {
  id: string;
  name: string;
  location: string;
  imageReferenceId?: string;
  tags: Record<string, string>;
}

export type ScaleSetRolloutStateName =
  'updated' | 'rolledBack' | 'pending' | 'refused' | 'untouched' | 'planned' | 'failed' | 'superseded';

export type RolloutState = 'succeeded' | 'partial' | 'rolledBack' | 'failed' | 'skipped' | 'planned';

/**
 * The managed scale sets a rollout moves: the ones asked for, by id or name (case-insensitive), in
 * the order asked, with the names that match none (outside kiln's scope, S2); or, when none are
 * asked for, every managed scale set whose model uses the definition.
 */
export function selectTargets<S extends TargetScaleSet>(
  managed: S[],
  definition: string,
  wanted: string[] | undefined,
): { targets: S[]; outOfScope: string[] } {
  if (!wanted || wanted.length === 0)
    return {
      targets: managed.filter(
        (s) => definitionOfImageReference(s.imageReferenceId)?.toLowerCase() === definition.toLowerCase(),
      ),
      outOfScope: [],
    };
  const targets: S[] = [];
  const outOfScope: string[] = [];
  for (const name of wanted) {
    const match = managed.find(
      (s) => s.id.toLowerCase() === name.toLowerCase() || s.name.toLowerCase() === name.toLowerCase(),
    );
    if (match) targets.push(match);
    else outOfScope.push(name);
  }
  return { targets, outOfScope };
}

/** The managed scale sets of an image: built for it, or whose model uses its definition. */
export function scaleSetsOfImage<S extends TargetScaleSet & { image: string }>(
  managed: S[],
  image: string,
  definition: string,
): S[] {
  return managed.filter(
    (s) =>
      s.image === image ||
      definitionOfImageReference(s.imageReferenceId)?.toLowerCase() === definition.toLowerCase(),
  );
}

/**
 * Scale sets in the order they roll: by their region's place in `regionOrder` (regions not in it,
 * or no order at all, last), then by name.
 */
export function orderByRegion<S extends TargetScaleSet>(
  scaleSets: S[],
  regionOrder: string[] | undefined,
): S[] {
  const place = (s: S) => {
    const index = regionOrder?.findIndex((r) => r.toLowerCase() === s.location.toLowerCase()) ?? -1;
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  return [...scaleSets].sort((a, b) => place(a) - place(b) || a.name.localeCompare(b.name));
}

/** The scale set that goes first: the one carrying the canary tag, else the first one. */
export function pickLead<S extends TargetScaleSet>(
  scaleSets: S[],
  canaryTag: { name: string; value: string },
): S | undefined {
  return scaleSets.find((s) => s.tags[canaryTag.name] === canaryTag.value) ?? scaleSets[0];
}

/** Consecutive groups of scale sets that share a region, in the order given. */
export function groupByRegion<S extends TargetScaleSet>(scaleSets: S[]): S[][] {
  const groups: S[][] = [];
  for (const s of scaleSets) {
    const last = groups.at(-1);
    if (last && last[0]!.location.toLowerCase() === s.location.toLowerCase()) last.push(s);
    else groups.push([s]);
  }
  return groups;
}

/**
 * What a lead's result means for the rest. It halts the rollout when it was rolled back or failed,
 * or when it had to prove the version and changed its scale set without proving it (moved nothing
 * healthy, or was superseded first); the others are then not started. A lead that changed nothing
 * (already on the version, newer, refused, another run's) hands the lead to the next scale set.
 * Otherwise the rest follow: the lead proved the version, or there was nothing to prove.
 */
export function judgeLead(
  lead: { state: ScaleSetRolloutStateName; instancesUpdated: number; unproven?: boolean },
  mustProve: boolean,
): { verdict: 'halt'; what: string; state: RolloutState } | { verdict: 'restFollow' | 'nextLeads' } {
  if (lead.state === 'rolledBack') return { verdict: 'halt', what: 'was rolled back', state: 'rolledBack' };
  if (lead.state === 'failed') return { verdict: 'halt', what: 'failed', state: 'failed' };
  if (!mustProve || lead.instancesUpdated > 0) return { verdict: 'restFollow' };
  const changedNothing =
    !lead.unproven && (lead.state === 'untouched' || lead.state === 'refused' || lead.state === 'updated');
  if (changedNothing) return { verdict: 'nextLeads' };
  return {
    verdict: 'halt',
    what: lead.state === 'superseded' ? 'was superseded before it proved anything' : 'proved nothing',
    state: 'partial',
  };
}

/**
 * How a rollout ended, from how its scale sets did: a dry run only plans; nothing moved and nothing
 * already on the version is skipped; a rollback or a failure anywhere marks the whole; instances
 * left busy or a model moved by someone else make it partial. A scale set already on the version
 * moved nothing, yet ends where the rollout asked: it succeeded.
 */
export function overallState(
  scaleSets: { state: ScaleSetRolloutStateName; alreadyOnVersion?: boolean }[],
  dryRun: boolean,
): RolloutState {
  if (dryRun) return 'planned';
  const scaleSetStates = scaleSets.map((s) => s.state);
  const leftAside = (s: (typeof scaleSets)[number]) =>
    s.state === 'refused' || (s.state === 'untouched' && !s.alreadyOnVersion);
  if (scaleSets.every(leftAside)) return 'skipped';
  if (scaleSetStates.includes('rolledBack')) return 'rolledBack';
  if (scaleSetStates.includes('failed')) return 'failed';
  if (scaleSetStates.includes('pending') || scaleSetStates.includes('superseded')) return 'partial';
  return 'succeeded';
}

/**
 * Why a rollout moved no scale set: each reason once, with the scale sets it held for (e.g. an event
 * for a version older than the ones they run: "it already runs the newer version 2026.12.5 (vmss-a,
 * vmss-b)").
 */
export function leftAsideReason(scaleSets: { scaleSet: string; reason?: string }[]): string {
  const byReason = new Map<string, string[]>();
  for (const s of scaleSets) {
    const reason = s.reason ?? 'left as it is';
    byReason.set(reason, [...(byReason.get(reason) ?? []), s.scaleSet]);
  }
  return [...byReason].map(([reason, names]) => `${reason} (${names.join(', ')})`).join('; ');
}
