/**
 * The Durable Functions extension's HTTP API (the part the durable client SDK and operators use),
 * served on loopback over the local runner: start, status, list, raise event, terminate. The app's
 * real `df.getClient()` talks to it through the `rpcBaseUrl` of its client binding, exactly as it
 * talks to the extension on the Functions host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InstanceExistsError, type InstanceStatus, type LocalDurableRunner } from '../durable/runner.js';

export const WEBHOOK_PATH = '/runtime/webhooks/durabletask/';

export interface DurableRpcServer {
  baseUrl: string;
  /** The durableClient binding data the host passes to functions with a durable client input. */
  clientBinding(functionKey: string): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startDurableRpcServer(
  runner: LocalDurableRunner,
  taskHub: string,
): Promise<DurableRpcServer> {
  const server: Server = createServer((request, response) => {
    handle(runner, request, response).catch((error: Error) => send(response, 500, { error: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = `${origin}${WEBHOOK_PATH}`;
  return {
    baseUrl: base,
    clientBinding(functionKey: string) {
      const query = `taskHub=${taskHub}&connection=Storage&code=${functionKey}`;
      const instance = `${base}instances/INSTANCEID`;
      return {
        taskHubName: taskHub,
        rpcBaseUrl: base,
        requiredQueryStringParameters: query,
        creationUrls: {
          createNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]?${query}`,
          createAndWaitOnNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
        },
        managementUrls: {
          id: 'INSTANCEID',
          statusQueryGetUri: `${instance}?${query}`,
          sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
          terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
          rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
          purgeHistoryDeleteUri: `${instance}?${query}`,
          restartPostUri: `${instance}/restart?${query}`,
          suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
          resumePostUri: `${instance}/resume?reason={text}&${query}`,
        },
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(
  runner: LocalDurableRunner,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (!url.pathname.startsWith(WEBHOOK_PATH)) return send(response, 404, { error: 'not found' });
  const parts = url.pathname.slice(WEBHOOK_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);
  const body = await readBody(request);

  if (request.method === 'POST' && parts[0] === 'orchestrators' && parts[1]) {
    try {
      const input = body.trim() === '' ? undefined : (JSON.parse(body) as unknown);
      const id = runner.startNew(parts[1], { instanceId: parts[2], input });
      return send(response, 202, { id });
    } catch (error) {
      if (error instanceof InstanceExistsError) return send(response, 409, { error: error.message });
      return send(response, 400, { error: (error as Error).message });
    }
  }
  if (parts[0] !== 'instances') return send(response, 404, { error: 'not found' });
  const instanceId = parts[1];
  if (request.method === 'GET' && !instanceId) {
    const statuses = runner.listInstances().filter((s) => matchesFilter(s, url.searchParams));
    return send(response, 200, statuses);
  }
  if (!instanceId) return send(response, 404, { error: 'not found' });
  const status = runner.getStatus(instanceId);
  if (!status) return send(response, 404, { error: `no instance ${instanceId}` });
  if (request.method === 'GET' && parts.length === 2) {
    const running = status.runtimeStatus === 'Running' || status.runtimeStatus === 'Pending';
    return send(response, running ? 202 : 200, status);
  }
  if (request.method === 'POST' && parts[2] === 'raiseEvent' && parts[3]) {
    runner.raiseEvent(instanceId, parts[3], body.trim() === '' ? null : JSON.parse(body));
    return send(response, 202, {});
  }
  if (request.method === 'POST' && parts[2] === 'terminate') {
    runner.terminate(instanceId, url.searchParams.get('reason') ?? 'terminated');
    return send(response, 202, {});
  }
  return send(response, 404, { error: 'not found' });
}

function matchesFilter(status: InstanceStatus, query: URLSearchParams): boolean {
  const statuses = query.get('runtimeStatus');
  if (statuses && !statuses.split(',').includes(status.runtimeStatus)) return false;
  const from = query.get('createdTimeFrom');
  if (from && status.createdTime < new Date(from).toISOString()) return false;
  return true;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}
