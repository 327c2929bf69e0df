/**
 * How a run ended, as metrics: orchestrators replay, so they never record a metric themselves; at
 * their end they hand this activity the facts (times from their own clock, states from their
 * output) and it records them. Recording is all it does: a retry of it (rare, at least once) counts a
 * run twice, never changes the fleet.
 */
import type { Fleet } from '../domain/hygiene.js';
import { runnerWindowDaysLeft } from '../domain/runner-compliance.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export type RecordMetricsInput =
  | {
      kind: 'cleanup';
      /** Ghosts the cleanup's plan found, for each fleet it could see whole. */
      ghostsFound: { fleet: Fleet; count: number }[];
    }
  | {
      kind: 'rollout';
      definition: string;
      version: string;
      source: string;
      state: string;
      startedAt: string;
      finishedAt: string;
      scaleSets: { name: string; state: string; waves: number }[];
    }
  | {
      kind: 'rebuild';
      definition: string;
      outcome: string;
      trigger: string;
      startedAt: string;
      finishedAt: string;
      /** The Packer build's start and successful end, when it got that far. */
      build?: { startedAt: string; finishedAt: string };
    }
  | {
      kind: 'runnerRelease';
      /** The runner baked into the newest promoted Linux version (undefined: not known). */
      baked?: string;
      latest: string;
      latestPublishedAt?: string;
    };

export function createRecordMetricsActivity({ metrics, now }: ActivityDeps) {
  // Whatever happens here comes back as a result, never as an exception that would fail the run.
  return (input: RecordMetricsInput): Promise<ActivityResult<null>> =>
    attempt(`record the metrics of a ${input.kind}`, async () => {
      switch (input.kind) {
        case 'cleanup':
          for (const { fleet, count } of input.ghostsFound) metrics.ghostsFound(fleet, count);
          break;
        case 'rollout':
          metrics.rolloutEnded({
            image: input.definition,
            version: input.version,
            source: input.source,
            state: input.state,
            seconds: secondsBetween(input.startedAt, input.finishedAt),
            scaleSets: input.scaleSets,
          });
          break;
        case 'rebuild':
          metrics.rebuildEnded({
            image: input.definition,
            outcome: input.outcome,
            trigger: input.trigger,
            seconds: secondsBetween(input.startedAt, input.finishedAt),
            ...(input.build
              ? { buildSeconds: secondsBetween(input.build.startedAt, input.build.finishedAt) }
              : {}),
          });
          break;
        case 'runnerRelease': {
          const daysLeft = runnerWindowDaysLeft({ ...input, now: now().toISOString() });
          if (daysLeft !== undefined)
            metrics.runner({ version: input.baked ?? 'unknown', latest: input.latest, daysLeft });
          break;
        }
      }
      return null;
    });
}

function secondsBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000;
}
