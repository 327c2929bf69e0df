/**
 * A run recorded in the run history (src/history/run-history.ts): a top-level orchestrator wraps its
 * body in recordedRun, which records the run when it starts (at the orchestration's own start time,
 * the same on every replay) and when it ends — with its outcome summed up from the output, or with
 * the failure that ended it (the failure is then thrown on, so the run still fails).
 *
 * Recording never fails a run: a record that cannot be written is logged as a warning. The start is
 * tried once (a run does not wait on its record: its end records it whole); the end is retried on
 * the usual activity policy, as it carries the outcome. A run terminated from outside never reaches
 * its end record: GET /api/runs shows it as the durable status says (src/functions/runs-view.ts).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  describeStartedBy,
  fitConclusion,
  recordedInput,
  cut,
  type RunConclusion,
  type RunEnd,
  type RunKind,
  type RunStart,
} from '../history/run-record.js';
import { Activities } from '../names.js';
import type { StartedBy } from '../orchestration-contracts.js';
import { ACTIVITY_RETRY } from '../retry-policy.js';
import { callActivity } from './call-activity.js';

export interface RunAbout {
  kind: RunKind;
  subject: string;
  dryRun: boolean;
  startedBy: StartedBy | undefined;
  /** What the run was asked: its input, less what the starter only carries along (a cleanup's memory). */
  input: unknown;
}

export function* recordedRun<O>(
  context: OrchestrationContext,
  about: RunAbout,
  body: Generator<Task, O, unknown>,
  conclude: (output: O) => RunConclusion,
): Generator<Task, O, unknown> {
  // kiln names a run's sub-orchestrations `<run id>:<part>`: they belong to that run's record.
  if (context.df.instanceId.includes(':')) return yield* body;
  const run: RunStart = {
    instanceId: context.df.instanceId,
    kind: about.kind,
    subject: cut(about.subject, 300),
    startedBy: describeStartedBy(about.startedBy),
    dryRun: about.dryRun,
    ...recordedInput(about.input),
    startedAt: context.df.currentUtcDateTime.toISOString(),
  };
  const started = yield* callActivity(context, Activities.recordRunStart, run, {
    ...ACTIVITY_RETRY,
    attempts: 1,
  });
  if (!started.ok) warn(context, `${started.error.message}; its end will record it whole`);
  else if (started.value?.pruneFailure)
    warn(context, `run history: deleting runs past RUN_HISTORY_DAYS failed: ${started.value.pruneFailure}`);
  const rowKey = started.ok ? started.value?.rowKey : undefined;

  let output: O;
  try {
    output = yield* body;
  } catch (error) {
    yield* recordEnd(context, rowKey, {
      ...run,
      ...fitConclusion({ reason: (error as Error).message, versions: [], scaleSets: [] }),
      status: 'Failed',
      endedAt: context.df.currentUtcDateTime.toISOString(),
    });
    throw error;
  }
  yield* recordEnd(context, rowKey, {
    ...run,
    ...fitConclusion(conclude(output)),
    status: 'Completed',
    endedAt: context.df.currentUtcDateTime.toISOString(),
  });
  return output;
}

function* recordEnd(
  context: OrchestrationContext,
  rowKey: string | undefined,
  run: RunEnd,
): Generator<Task, void, unknown> {
  const ended = yield* callActivity(context, Activities.recordRunEnd, { run, ...(rowKey ? { rowKey } : {}) });
  if (!ended.ok) warn(context, ended.error.message);
}

/** Logs a warning once (not again on replay). */
function warn(context: OrchestrationContext, message: string): void {
  if (!context.df.isReplaying) context.warn(message);
}
