/**
 * Polling sub-orchestrations for slow cloud work: a Packer job execution and a gallery version's
 * replication. Each polls on durable timers and continues as new every few polls, so no history
 * grows with the length of the wait (a 12-hour build polled every minute stays far under 300 events).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { regionKey } from '../domain/regions.js';
import { Activities, Orchestrations } from '../names.js';
import { callActivity } from './call-activity.js';
import { after } from './durable-time.js';
import { inputOf } from '../orchestration-contracts.js';

/** Polls per execution before continuing as new. */
const POLLS_PER_EXECUTION = 20;

export interface WaitForBuildInput {
  executionName: string;
  deadline: string;
  pollMinutes: number;
  /** Since when the status could not be read (carried through continue-as-new). */
  unreadableSince?: string;
  lastReadError?: string;
}

export interface WaitForBuildOutput {
  /** Succeeded | Failed | Stopped | TimedOut (the rebuild also uses Crashed for a wait that failed itself). */
  status: string;
  reason?: string;
}

const TERMINAL_BUILD = new Set(['Succeeded', 'Failed', 'Stopped']);

/**
 * Polls the execution until it ends or the deadline passes. A status that cannot be read is not a
 * failed build: the build goes on meanwhile, so the wait goes on too (until the deadline, when the
 * rebuild stops the execution), and says since when it could not read.
 */
export function* waitForBuildOrchestrator(
  context: OrchestrationContext,
): Generator<Task, WaitForBuildOutput, unknown> {
  const input = inputOf(context, Orchestrations.waitForBuild);
  for (let poll = 0; poll < POLLS_PER_EXECUTION; poll++) {
    if (context.df.currentUtcDateTime.getTime() >= Date.parse(input.deadline))
      return {
        status: 'TimedOut',
        ...(input.unreadableSince
          ? { reason: `its status could not be read since ${input.unreadableSince}: ${input.lastReadError}` }
          : {}),
      };
    yield context.df.createTimer(after(context, { minutes: input.pollMinutes }));
    const read = yield* callActivity(context, Activities.getBuildStatus, {
      executionName: input.executionName,
    });
    if (!read.ok) {
      input.unreadableSince ??= context.df.currentUtcDateTime.toISOString();
      input.lastReadError = read.error.message;
      context.df.setCustomStatus({
        execution: input.executionName,
        status: 'unreadable',
        since: input.unreadableSince,
        error: read.error.message,
      });
      continue;
    }
    delete input.unreadableSince;
    delete input.lastReadError;
    context.df.setCustomStatus({ execution: input.executionName, status: read.value.status });
    if (TERMINAL_BUILD.has(read.value.status)) return { status: read.value.status };
  }
  context.df.continueAsNew(input);
  return undefined as never;
}

export interface WaitForReplicationInput {
  definition: string;
  version: string;
  regions: string[];
  deadline: string;
  pollMinutes: number;
  /**
   * A wanted region the version is not published to ends the wait: a rollout cannot make it come.
   * (A rebuild that has just added the regions waits for them to show.)
   */
  missingIsFinal?: boolean;
}

export interface WaitForReplicationOutput {
  /** Per wanted region: Completed, Failed, Replicating (deadline passed) or Missing. */
  regions: Record<string, string>;
  provisioningState?: string;
  reason?: string;
  /** The version does not exist (any more). */
  gone?: boolean;
}

export function* waitForReplicationOrchestrator(
  context: OrchestrationContext,
): Generator<Task, WaitForReplicationOutput, unknown> {
  const input = inputOf(context, Orchestrations.waitForReplication);
  for (let poll = 0; poll < POLLS_PER_EXECUTION; poll++) {
    const read = yield* callActivity(context, Activities.resolveImageVersion, {
      definition: input.definition,
      version: input.version,
    });
    if (!read.ok) return { regions: {}, reason: read.error.message };
    if (!read.value) return { regions: {}, reason: `version ${input.version} does not exist`, gone: true };
    const states = Object.fromEntries(
      input.regions.map((r) => [r, read.value!.regions[regionKey(r)] ?? 'Missing']),
    );
    context.df.setCustomStatus({ version: input.version, regions: states });
    const settled = Object.values(states).every(
      (s) => s === 'Completed' || s === 'Failed' || (input.missingIsFinal && s === 'Missing'),
    );
    if (settled || context.df.currentUtcDateTime.getTime() >= Date.parse(input.deadline)) {
      return { regions: states, provisioningState: read.value.provisioningState };
    }
    yield context.df.createTimer(after(context, { minutes: input.pollMinutes }));
  }
  context.df.continueAsNew(input);
  return undefined as never;
}
