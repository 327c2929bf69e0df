/**
 * Reads runner/agent registrations for the rollout's looks (wave planning, health, busy waits)
 * at the lowest request cost. Scale sets roll in parallel and poll on the same clock ticks, so one
 * fleet list taken at a tick answers every scale set that looks within `maxAgeMs`; a small question
 * in a large fleet is answered by per-name lookups instead of every list page.
 *
 * Never the last word before acting (S1): drains re-check with the service itself (GitHub refuses to
 * delete a busy runner; an Azure DevOps agent is re-read after it is disabled).
 */
import type { AdoAgent, FullAdoClient, FullGitHubClient, GitHubRunner } from '../clients/types.js';
import type { Fleet } from '../domain/hygiene.js';
import type { RegistrationState } from '../domain/rollout.js';

/** GitHub lists 100 runners a page (the client asks for the maximum). */
const GITHUB_PAGE_SIZE = 100;
/** Before the first list says how large the fleet is, lookups win up to this many names. */
const LOOKUPS_BEFORE_FIRST_LIST = 10;
/** How long a fleet list answers later looks: well under the 2-minute health poll. */
export const SNAPSHOT_MAX_AGE_MS = 60_000;

type Registration = GitHubRunner | AdoAgent;

interface Snapshot {
  takenAt: number;
  registrations: Registration[];
}

export interface RegistrationReaderDeps {
  github?: FullGitHubClient;
  ado?: FullAdoClient;
  now: () => Date;
}

export interface RegistrationReader {
  /** Registration state by lower-case name, for the names that have one. */
  stateOf(fleet: Fleet, names: string[]): Promise<Record<string, RegistrationState>>;
}

export function createRegistrationReader(deps: RegistrationReaderDeps): RegistrationReader {
  const snapshots = new Map<Fleet, Snapshot>();
  const listing = new Map<Fleet, Promise<Snapshot>>();
  /**
   * Names asked per window of `SNAPSHOT_MAX_AGE_MS` (polls come in ticks, so a window is a tick): when
   * this window's questions, or the last one's, add up to a list's cost, the list answers them all.
   */
  const demand = new Map<Fleet, { since: number; names: number; previous: number }>();

  const list = (fleet: Fleet): Promise<Snapshot> => {
    const running = listing.get(fleet);
    if (running) return running;
    const takenAt = deps.now().getTime();
    const next = (fleet === 'github' ? github(deps).listRunners() : ado(deps).listAgents())
      .then((registrations: Registration[]) => {
        const snapshot = { takenAt, registrations };
        snapshots.set(fleet, snapshot);
        return snapshot;
      })
      .finally(() => listing.delete(fleet));
    listing.set(fleet, next);
    return next;
  };

  const lookUp = async (fleet: Fleet, names: string[]): Promise<Registration[]> =>
    fleet === 'github'
      ? (await Promise.all(names.map((n) => github(deps).findRunnersByName(n)))).flat()
      : (await Promise.all(names.map((n) => ado(deps).findAgentsByName(n)))).flat();

  /** Azure DevOps lists a pool in one request; GitHub pages by 100. */
  const listCost = (fleet: Fleet): number => {
    if (fleet === 'ado') return 1;
    // The last list, however old, says how large the fleet is.
    const size = snapshots.get(fleet)?.registrations.length;
    return size === undefined ? LOOKUPS_BEFORE_FIRST_LIST : Math.max(1, Math.ceil(size / GITHUB_PAGE_SIZE));
  };

  const ask = (fleet: Fleet, names: number): { now: number; previous: number } => {
    const now = deps.now().getTime();
    const current = demand.get(fleet);
    const window =
      current && now - current.since <= SNAPSHOT_MAX_AGE_MS
        ? current
        : { since: now, names: 0, previous: current?.names ?? 0 };
    window.names += names;
    demand.set(fleet, window);
    return { now: window.names, previous: window.previous };
  };

  return {
    async stateOf(fleet, names) {
      if (names.length === 0) return {};
      const asked = ask(fleet, names.length);
      const snapshot = snapshots.get(fleet);
      const fresh = snapshot && deps.now().getTime() - snapshot.takenAt <= SNAPSHOT_MAX_AGE_MS;
      const cost = listCost(fleet);
      const found = fresh
        ? snapshot.registrations
        : listing.has(fleet) || asked.now >= cost || asked.previous >= cost
          ? (await list(fleet)).registrations
          : await lookUp(fleet, names);
      return stateByName(found, names);
    },
  };
}

/** Several registrations with one name (a stale one and its replacement): busy or online wins. */
export function stateByName(found: Registration[], names: string[]): Record<string, RegistrationState> {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const result: Record<string, RegistrationState> = {};
  for (const r of found) {
    const key = r.name.toLowerCase();
    if (!wanted.has(key)) continue;
    const previous = result[key];
    const finished = [previous?.lastJobFinishedOn, 'lastJobFinishedOn' in r ? r.lastJobFinishedOn : undefined]
      .filter((at): at is string => at !== undefined)
      .sort()
      .at(-1);
    result[key] = {
      status: previous?.status === 'online' || r.status === 'online' ? 'online' : 'offline',
      busy: (previous?.busy ?? false) || r.busy,
      ids: [...(previous?.ids ?? []), r.id],
      ...(finished ? { lastJobFinishedOn: finished } : {}),
    };
  }
  return result;
}

function github(deps: RegistrationReaderDeps): FullGitHubClient {
  if (!deps.github) throw new Error('no GitHub fleet is configured');
  return deps.github;
}

function ado(deps: RegistrationReaderDeps): FullAdoClient {
  if (!deps.ado) throw new Error('no Azure DevOps fleet is configured');
  return deps.ado;
}
