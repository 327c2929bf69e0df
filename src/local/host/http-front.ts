/**
 * Serves a LocalAppHost over real HTTP on loopback (`kiln serve`): `/api/*` reaches the app's HTTP
 * functions exactly as registered (routes, methods, function-key auth), and
 * `POST /runtime/webhooks/eventgrid?functionName=NAME` is the Event Grid extension's webhook,
 * handshake included: a SubscriptionValidation delivery is answered `{ validationResponse }`, a
 * Notification delivers each event to the function (202), and the CloudEvents OPTIONS handshake is
 * answered with WebHook-Allowed-Origin. The local host has one key; the webhook takes it as `code`
 * where Azure uses the eventgrid_extension system key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalAppHost } from './app-host.js';
import { WEBHOOK_PATH } from './durable-rpc.js';

export const EVENT_GRID_WEBHOOK = '/runtime/webhooks/eventgrid';
/** Event Grid posts at most 1 MB per delivery. */
const MAX_BODY = 1024 * 1024;

export interface HttpFront {
  origin: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpFront(
  host: LocalAppHost,
  options: { port: number; log?: (line: string) => void },
): Promise<HttpFront> {
  const server: Server = createServer((request, response) => {
    handle(host, request, response, options.log).catch((error: Error) => {
      options.log?.(`${request.method} ${pathOf(request)}: ${error.message}`);
      if (!response.headersSent) send(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
}

async function handle(
  host: LocalAppHost,
  request: IncomingMessage,
  response: ServerResponse,
  log?: (line: string) => void,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = (request.method ?? 'GET').toUpperCase();
  const body = await readBody(request);
  if (body === undefined) return send(response, 413, { error: 'request body over 1 MiB' });

  if (url.pathname.replace(/\/+$/, '') === EVENT_GRID_WEBHOOK)
    return eventGrid(host, method, url, request, response, body, log);

  if (url.pathname.startsWith(WEBHOOK_PATH)) return durableApi(host, method, url, response, body);
  if (!url.pathname.startsWith('/api/')) return send(response, 404, { error: 'not found' });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const result = await host.invokeHttp({
    method,
    // The absolute URL makes the status links the app answers point at this server.
    path: `${origin(request)}${url.pathname}${url.search}`,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    headers,
  });
  log?.(`${method} ${url.pathname} → ${result.status}`);
  response.writeHead(result.status, result.headers);
  response.end(method === 'HEAD' ? undefined : result.body);
}

async function eventGrid(
  host: LocalAppHost,
  method: string,
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
  body: string,
  log?: (line: string) => void,
): Promise<void> {
  const functionName = url.searchParams.get('functionName') ?? '';
  if (
    url.searchParams.get('code') !== host.functionKey &&
    request.headers['x-functions-key'] !== host.functionKey
  )
    return send(response, 401, { error: 'the webhook requires the key (?code=)' });
  if (!host.eventGridFunctions().some((r) => r.name === functionName))
    return send(response, 404, { error: `no Event Grid function "${functionName}"` });

  if (method === 'OPTIONS') {
    // CloudEvents 1.0 abuse-protection handshake.
    const origin = request.headers['webhook-request-origin'];
    if (typeof origin !== 'string' || origin === '')
      return send(response, 400, { error: 'WebHook-Request-Origin header missing' });
    response.writeHead(200, { 'WebHook-Allowed-Origin': origin, 'WebHook-Allowed-Rate': '*' });
    return void response.end();
  }
  if (method !== 'POST') return send(response, 405, { error: 'method not allowed' });

  let events: unknown[];
  try {
    const parsed = JSON.parse(body) as unknown;
    events = Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return send(response, 400, { error: 'the body is not valid JSON' });
  }
  const kind = String(request.headers['aeg-event-type'] ?? '');
  if (kind === 'SubscriptionValidation') {
    const validation = events.find(
      (e) => (e as { eventType?: string }).eventType === 'Microsoft.EventGrid.SubscriptionValidationEvent',
    ) as { data?: { validationCode?: unknown } } | undefined;
    const code = validation?.data?.validationCode;
    if (typeof code !== 'string')
      return send(response, 400, { error: 'no SubscriptionValidationEvent with a validationCode' });
    log?.(`event grid: subscription validated for ${functionName}`);
    return send(response, 200, { validationResponse: code });
  }
  if (kind === 'SubscriptionDeletion') return send(response, 202, undefined);
  if (kind !== 'Notification' && !(request.headers['content-type'] ?? '').includes('cloudevents'))
    return send(response, 400, { error: `unknown aeg-event-type "${kind}"` });
  for (const event of events) await host.deliverEvent(functionName, event);
  log?.(`event grid: ${events.length} event(s) delivered to ${functionName}`);
  return send(response, 202, undefined);
}

function origin(request: IncomingMessage): string {
  const address = request.socket.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  return `http://${address}:${request.socket.localPort}`;
}

/** The durable extension's HTTP API (the status links of a 202), behind the key like on a host. */
async function durableApi(
  host: LocalAppHost,
  method: string,
  url: URL,
  response: ServerResponse,
  body: string,
): Promise<void> {
  if (url.searchParams.get('code') !== host.functionKey)
    return send(response, 401, { error: 'the durable HTTP API requires the key (?code=)' });
  const target = new URL(url.pathname.slice(WEBHOOK_PATH.length) + url.search, host.durableApiBaseUrl);
  const answer = await fetch(target, {
    method,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    headers: { 'content-type': 'application/json' },
  });
  response.writeHead(answer.status, {
    'Content-Type': answer.headers.get('content-type') ?? 'application/json',
  });
  response.end(await answer.text());
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) over = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    response.writeHead(status);
    response.end();
    return;
  }
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
