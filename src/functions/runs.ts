/**
 * GET /api/runs (recent rebuilds, rollouts, cleanups and runner-release watches with status and
 * phase) and GET /api/runs/{id} (status, custom status, input, output, failure reason, children).
 * Reads the durable client only; shaping is in runs-view.ts.
 */
import * as df from 'durable-functions';
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import { listRuns, toChild, toRunDetail, type DurableStatusLike } from './runs-view.js';
import { now } from './runtime.js';
import { previousStatus } from './start-run.js';

const DEFAULT_DAYS = 7;
const MAX_DAYS = 90;
const DEFAULT_TOP = 50;
const MAX_TOP = 500;

function intParam(value: string | null, name: string, fallback: number, max: number): number | string {
  if (value === null || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    return `query parameter "${name}" must be an integer from 1 to ${max}`;
  return Number(value);
}

export function registerRuns(): void {
  app.http('listRuns', {
    route: 'runs',
    methods: ['GET'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const days = intParam(request.query.get('days'), 'days', DEFAULT_DAYS, MAX_DAYS);
      const top = intParam(request.query.get('top'), 'top', DEFAULT_TOP, MAX_TOP);
      if (typeof days === 'string') return new HttpResponse({ status: 400, jsonBody: { error: days } });
      if (typeof top === 'string') return new HttpResponse({ status: 400, jsonBody: { error: top } });
      const client = df.getClient(context);
      const from = new Date(now().getTime() - days * 86_400_000);
      const all = (await client.getStatusBy({ createdTimeFrom: from })) as DurableStatusLike[];
      return new HttpResponse({
        status: 200,
        jsonBody: { generatedAt: now().toISOString(), days, runs: listRuns(all, top) },
        headers: { 'Cache-Control': 'no-store' },
      });
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
        parent: id.slice(0, id.lastIndexOf(':')) || undefined,
      };
      return new HttpResponse({ status: 200, jsonBody: body, headers: { 'Cache-Control': 'no-store' } });
    },
  });
}
