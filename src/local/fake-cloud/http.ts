/**
 * The small HTTP(S) layer under every fake service: one server per service on 127.0.0.1 with a
 * random port, request counting, body reading, JSON replies and the two faults that are not a
 * status code (connection reset, no answer at all).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Exchange } from '../contracts/types.js';
import type { FakeFault, FakeService } from './faults.js';

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** Raw body text ('' when none). */
  body: string;
  /** The body's bytes as sent (a blob's content). */
  bytes: Buffer;
  raw: IncomingMessage;
  res: ServerResponse;
}

export type Handler = (req: FakeRequest) => Promise<void> | void;

export interface RunningServer {
  origin: string;
  server: Server;
  close(): Promise<void>;
}

export interface ServeOptions {
  service: FakeService;
  /** PEM cert and key; plain HTTP when absent (the managed identity endpoint). */
  tls?: { cert: string; key: string };
  /** Host name used in `origin` (the server always listens on 127.0.0.1). */
  hostName?: string;
  /** Called once per request, before it is answered (counts per service and the request log). */
  onRequest: (service: FakeService, request: { method: string; path: string }) => void;
  handler: Handler;
  /** Sees each answered exchange (request and response as sent) once it is finished: contract checks. */
  observe?: (exchange: Exchange) => void;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const listener = (raw: IncomingMessage, res: ServerResponse) => {
    options.onRequest(options.service, {
      method: (raw.method ?? 'GET').toUpperCase(),
      path: (raw.url ?? '/').split('?')[0] ?? '/',
    });
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const host = raw.headers.host ?? '127.0.0.1';
      const bytes = Buffer.concat(chunks);
      const req: FakeRequest = {
        method: (raw.method ?? 'GET').toUpperCase(),
        url: new URL(raw.url ?? '/', `${options.tls ? 'https' : 'http'}://${host}`),
        headers: raw.headers,
        body: bytes.toString('utf8'),
        bytes,
        raw,
        res,
      };
      if (options.observe) watchExchange(req, options.observe);
      Promise.resolve()
        .then(() => options.handler(req))
        .catch((err: unknown) => {
          if (!res.headersSent) {
            sendJson(res, 500, {
              error: {
                code: 'InternalServerError',
                message: `fake ${options.service} failed: ${String((err as Error)?.message ?? err)}`,
              },
            });
          } else {
            res.destroy();
          }
        });
    });
  };
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `${options.tls ? 'https' : 'http'}://${options.hostName ?? '127.0.0.1'}:${port}`;
  return {
    origin,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Records what the handler writes (status, headers, body) by wrapping the response's writeHead,
 * write and end, and hands the whole exchange to `observe` when the response has finished. A reset
 * or unanswered request never finishes and so is never observed: there is no answer to check.
 */
function watchExchange(req: FakeRequest, observe: (exchange: Exchange) => void): void {
  const res = req.res;
  const chunks: Buffer[] = [];
  let headHeaders: OutgoingHttpHeaders = {};
  const take = (chunk: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const h = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a));
    if (h) headHeaders = { ...(h as OutgoingHttpHeaders) };
    return writeHead(...args);
  }) as typeof res.writeHead;
  res.write = ((...args: unknown[]) => {
    take(args[0]);
    return write(...args);
  }) as typeof res.write;
  res.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function') take(args[0]);
    return end(...args);
  }) as typeof res.end;
  res.once('finish', () =>
    observe({
      method: req.method,
      url: req.url,
      requestHeaders: req.headers,
      requestBody: req.body,
      status: res.statusCode,
      responseHeaders: { ...res.getHeaders(), ...headHeaders },
      responseBody: Buffer.concat(chunks).toString('utf8'),
    }),
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  const all: Record<string, string> = { ...headers };
  if (body !== undefined) all['content-type'] ??= 'application/json; charset=utf-8';
  all['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(status, all);
  res.end(text);
}

/**
 * Applies a status/reset/hang fault. Returns true when the request was consumed by the fault.
 * `envelope` builds the service's own error body for a status fault.
 */
export function applyHttpFault(
  req: FakeRequest,
  fault: FakeFault | undefined,
  envelope: (status: number) => { body: unknown; headers?: Record<string, string> },
): boolean {
  if (!fault) return false;
  if (fault.hang) {
    // Never answer; the socket is torn down when the server closes.
    return true;
  }
  if (fault.status === 0) {
    req.raw.socket.destroy();
    return true;
  }
  const status = fault.status ?? 500;
  const { body, headers = {} } = envelope(status);
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  sendJson(req.res, status, body, headers);
  return true;
}

/** Parses a JSON body; undefined for an empty body; throws SyntaxError for malformed JSON. */
export function parseJsonBody(req: FakeRequest): unknown {
  if (req.body.trim() === '') return undefined;
  return JSON.parse(req.body) as unknown;
}

export function bearerToken(req: FakeRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}
