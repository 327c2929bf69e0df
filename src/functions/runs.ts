/**
 * GET /api/runs (the run history: every rebuild, rollout, cleanup and runner-release watch, newest
 * first, a page at a time; a running one with its phase and children) and GET /api/runs/{id} (the
 * latest run of an instance id: status, custom status, input, output, failure reason, children).
 * Reads the run history and the durable client; shaping is in runs-view.ts. Also registers the run
 * history's activities, which every run calls.
 */
import * as df from 'durable-functions';
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import {
  listRuns,
  parentOf,
  toChild,
  toHistoryRun,
  toRunDetail,
  type DurableStatusLike,
  type HistoryRun,
} from './runs-view.js';
import { getRuntime, getSettings, now } from './runtime.js';
import { previousStatus } from './start-run.js';
import { BadContinuationError, type RunHistory } from '../history/run-history.js';
import type { RunKind } from '../history/run-record.js';
import { createRecordRunEndActivity, createRecordRunStartActivity } from '../activities/run-history.js';
import { Activities } from '../names.js';
import { registerActivity } from './register-activity.js';

const DEFAULT_DAYS = 7;
const DEFAULT_TOP = 50;
const MAX_TOP = 500;

const RUN_KINDS: RunKind[] = ['rebuild', 'rollout', 'cleanup', 'runner-release-watch'];

/** The `kind` parameter: one kind of run, or every kind when absent; the error for another value. */
function kindParam(value: string | null): { kind?: RunKind } | { error: string } {
  if (value === null || value === '') return {};
  return (RUN_KINDS as string[]).includes(value)
    ? { kind: value as RunKind }
    : { error: `query parameter "kind" must be one of ${RUN_KINDS.join(', ')}` };
}

function intParam(value: string | null, name: string, fallback: number, max: number): number | string {
  if (value === null || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    return `query parameter "${name}" must be an integer from 1 to ${max}`;
  return Number(value);
}

export function registerRuns(): void {
  registerActivity(Activities.recordRunStart, createRecordRunStartActivity);
  registerActivity(Activities.recordRunEnd, createRecordRunEndActivity);

  app.http('listRuns', {
    route: 'runs',
    methods: ['GET'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const retention = getSettings().runHistory.retentionDays;
      const days = intParam(request.query.get('days'), 'days', Math.min(DEFAULT_DAYS, retention), retention);
      const top = intParam(request.query.get('top'), 'top', DEFAULT_TOP, MAX_TOP);
      if (typeof days === 'string') return new HttpResponse({ status: 400, jsonBody: { error: days } });
      if (typeof top === 'string') return new HttpResponse({ status: 400, jsonBody: { error: top } });
      const kindAsked = kindParam(request.query.get('kind'));
      if ('error' in kindAsked)
        return new HttpResponse({ status: 400, jsonBody: { error: kindAsked.error } });
      const ofKind = kindAsked.kind;
      const client = df.getClient(context);
      const since = new Date(now().getTime() - days * 86_400_000);
      const history = getRuntime().runHistory;
      const answer = (runs: unknown[], next?: string) =>
        new HttpResponse({
          status: 200,
          jsonBody: { generatedAt: now().toISOString(), days, runs, ...(next ? { next } : {}) },
          headers: { 'Cache-Control': 'no-store' },
        });
      if (!history) {
        // No run history (KILN_TABLE_ENDPOINT empty): the task hub's latest run of each instance id.
        const all = (await client.getStatusBy({ createdTimeFrom: since })) as DurableStatusLike[];
        return answer(listRuns(all, top).filter((run) => ofKind === undefined || run.kind === ofKind));
      }
      const continuation = request.query.get('next') ?? undefined;
      try {
        const page = await historyPage(history, client, { since, top, continuation, kind: ofKind });
        return answer(
          page.runs,
          page.continuation && nextLink(request, { days, top, kind: ofKind }, page.continuation),
        );
      } catch (error) {
        if (error instanceof BadContinuationError)
          return new HttpResponse({
            status: 400,
            jsonBody: { error: `query parameter "next": ${error.message}` },
          });
        context.error(`GET /api/runs: ${(error as Error).message}`);
        return new HttpResponse({
          status: 503,
          jsonBody: { error: `the run history cannot be read: ${(error as Error).message}` },
          headers: { 'Retry-After': '30' },
        });
      }
    },
  });

  app.http('getRun', {
    route: 'runs/{id}',
    methods: ['GET'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const id = request.params.id ?? '';
      const client = df.getClient(context);
      const status = (await previousStatus(client, id)) as DurableStatusLike | undefined;
      if (!status) return new HttpResponse({ status: 404, jsonBody: { error: `no run "${id}"` } });
      const createdTime = status.createdTime ? new Date(status.createdTime) : new Date(0);
      const all = (await client.getStatusBy({ createdTimeFrom: createdTime })) as DurableStatusLike[];
      const detail = toRunDetail(status, all);
      // A sub-orchestration (`<run>:<scale set>`) is answered as what it is: a child with its status.
      const body = detail ?? {
        ...toChild(status),
        input: status.input ?? null,
        output: status.output ?? null,
        parent: parentOf(id),
      };
      return new HttpResponse({ status: 200, jsonBody: body, headers: { 'Cache-Control': 'no-store' } });
    },
  });
}

/** A page of the history, running runs as the task hub sees them now (one status read each, and their children). */
async function historyPage(
  history: RunHistory,
  client: df.DurableClient,
  query: { since: Date; top: number; continuation?: string; kind?: RunKind },
): Promise<{ runs: HistoryRun[]; continuation?: string }> {
  const page = await history.list({
    sinceIso: query.since.toISOString(),
    top: query.top,
    continuation: query.continuation,
    ...(query.kind ? { kind: query.kind } : {}),
  });
  const running = page.runs.filter((r) => r.status === 'Running');
  const live = new Map<string, DurableStatusLike | undefined>();
  for (const run of running) live.set(run.instanceId, await previousStatus(client, run.instanceId));
  // Children start after their run: those of every running run of the page were created since the first started.
  const firstStart = Math.min(...running.map((r) => Date.parse(r.startedAt)));
  const all = running.length
    ? ((await client.getStatusBy({ createdTimeFrom: new Date(firstStart) })) as DurableStatusLike[])
    : [];
  return {
    runs: page.runs.map((run) => toHistoryRun(run, live.get(run.instanceId), all)),
    ...(page.continuation ? { continuation: page.continuation } : {}),
  };
}

/** The next page's link, at the host and port the request came to (as start-run.ts's statusLinks), without the key. */
function nextLink(
  request: HttpRequest,
  asked: { days: number; top: number; kind?: RunKind },
  continuation: string,
): string {
  const url = new URL(request.url);
  const query = new URLSearchParams({
    days: String(asked.days),
    top: String(asked.top),
    ...(asked.kind ? { kind: asked.kind } : {}),
    next: continuation,
  });
  return `${url.origin}${url.pathname}?${query}`;
}
