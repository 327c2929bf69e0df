/**
 * Runs the app as registered, without the Functions host: loads the registration module behind the
 * `@azure/functions-core` stand-in, gives orchestrations and activities to the local durable
 * runner, and invokes HTTP and timer functions the way the host would — routes, methods and
 * function-key auth included — with the durable client binding pointing at the local runner.
 */
import { randomBytes } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext } from '../../functions/azure-functions.js';
import type { VirtualClock } from '../clock.js';
import { randomUuid, seededRandom, type Random } from '../random.js';
import { LocalDurableRunner } from '../durable/runner.js';
import type { ActivityHandler, OrchestratorHandler } from '../durable/sdk-internals.js';
import { useClock } from '../../functions/runtime.js';
import { startDurableRpcServer, type DurableRpcServer } from './durable-rpc.js';
import { installFunctionsCoreStandIn, type Binding, type Registration } from './functions-core.js';

export interface HttpCall {
  method: string;
  /** Path under the host, e.g. /api/cleanups */
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface AppHostOptions {
  clock: VirtualClock;
  log?: (level: string, source: string, message: string) => void;
  /** The key HTTP functions with authLevel "function" accept (x-functions-key header or ?code=). */
  functionKey?: string;
  /** Origin the app is reached at (for status URLs); defaults to http://localhost:7071. */
  origin?: string;
  /** Activities one at a time in a fixed order (the simulator: the same seed, the same run). */
  serialActivities?: boolean;
  /** Where invocation ids are drawn from (the simulator's is seeded from the scenario); default a fixed seed. */
  random?: Random;
}

let appLoaded: Promise<Registration[]> | undefined;

/** Loads the app's registration module once per process, capturing what it registers. */
export function loadApp(): Promise<Registration[]> {
  appLoaded ??= (async () => {
    const registrations = installFunctionsCoreStandIn();
    await import('../../functions/index.js');
    return registrations;
  })();
  return appLoaded;
}

export class LocalAppHost {
  readonly functionKey: string;
  private readonly invocationIds: Random;

  private constructor(
    readonly registrations: Registration[],
    readonly runner: LocalDurableRunner,
    private readonly rpc: DurableRpcServer,
    private readonly options: AppHostOptions,
    functionKey: string,
  ) {
    this.functionKey = functionKey;
    this.invocationIds = options.random ?? seededRandom(0);
  }

  static async start(options: AppHostOptions): Promise<LocalAppHost> {
    const registrations = await loadApp();
    // Trigger adapters see the host's clock (virtual in a simulation) as the time they act at.
    useClock(() => options.clock.now());
    const orchestrators = new Map<string, OrchestratorHandler>();
    const activities = new Map<string, ActivityHandler>();
    for (const r of registrations) {
      if (r.trigger.type === 'orchestrationTrigger')
        orchestrators.set(r.name, r.handler as OrchestratorHandler);
      if (r.trigger.type === 'activityTrigger') activities.set(r.name, r.handler as ActivityHandler);
    }
    const runner = new LocalDurableRunner({
      clock: options.clock,
      orchestrators,
      activities,
      log: options.log,
      serialActivities: options.serialActivities,
    });
    const rpc = await startDurableRpcServer(runner, process.env.KILN_TASK_HUB ?? 'kiln');
    return new LocalAppHost(
      registrations,
      runner,
      rpc,
      options,
      options.functionKey ?? randomBytes(16).toString('hex'),
    );
  }

  get durableApiBaseUrl(): string {
    return this.rpc.baseUrl;
  }

  async close(): Promise<void> {
    await this.rpc.close();
  }

  httpFunctions(): Registration[] {
    return this.registrations.filter((r) => r.trigger.type === 'httpTrigger');
  }

  timerFunctions(): { name: string; schedule: string }[] {
    return this.registrations
      .filter((r) => r.trigger.type === 'timerTrigger')
      .map((r) => ({ name: r.name, schedule: String(r.trigger.schedule) }));
  }

  /** Invokes the HTTP function whose route and method match, as the host would (404/405/401 otherwise). */
  async invokeHttp(call: HttpCall): Promise<HttpResult> {
    const url = new URL(call.path, this.options.origin ?? 'http://localhost:7071');
    const method = call.method.toUpperCase();
    if (!url.pathname.startsWith('/api/')) return plain(404, 'not found');
    const routePath = url.pathname.slice('/api/'.length);
    const candidates = this.httpFunctions()
      .map((r) => ({ r, params: matchRoute(String(r.trigger.route ?? r.name), routePath) }))
      .filter((c) => c.params !== undefined);
    if (candidates.length === 0) return plain(404, 'not found');
    const match = candidates.find((c) =>
      ((c.r.trigger.methods as string[] | undefined) ?? ['GET', 'POST']).includes(method),
    );
    if (!match) return plain(405, 'method not allowed');
    const headers = Object.fromEntries(
      Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    if (match.r.trigger.authLevel !== 'anonymous') {
      const key = headers['x-functions-key'] ?? url.searchParams.get('code');
      if (key !== this.functionKey)
        return plain(401, 'a function key is required (x-functions-key header or ?code=)');
    }
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      query: Object.fromEntries(url.searchParams),
      params: match.params!,
      body: call.body !== undefined ? { string: call.body } : undefined,
    });
    const context = this.context(match.r);
    const result = (await match.r.handler(request, context)) as
      | HttpResponse
      | { status?: number; jsonBody?: unknown; body?: string; headers?: Record<string, string> }
      | undefined;
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: await response.text(),
    };
  }

  /** Fires a timer function now, as its schedule would. */
  async fireTimer(name: string): Promise<void> {
    const registration = this.registrations.find((r) => r.name === name && r.trigger.type === 'timerTrigger');
    if (!registration) throw new Error(`no timer function "${name}"`);
    const now = this.options.clock.now().toISOString();
    await registration.handler(
      {
        isPastDue: false,
        schedule: { adjustForDST: false },
        scheduleStatus: { last: now, next: now, lastUpdated: now },
      },
      this.context(registration),
    );
  }

  eventGridFunctions(): Registration[] {
    return this.registrations.filter((r) => r.trigger.type === 'eventGridTrigger');
  }

  /** Delivers one Event Grid event to an Event Grid function, as the extension does after the handshake. */
  async deliverEvent(functionName: string, event: unknown): Promise<void> {
    const registration = this.eventGridFunctions().find((r) => r.name === functionName);
    if (!registration) throw new Error(`no Event Grid function "${functionName}"`);
    await registration.handler(event, this.context(registration));
  }

  private context(registration: Registration): InvocationContext {
    const inputs = Object.values(registration.bindings).filter(
      (b) => b.direction === 'in' && b !== registration.trigger,
    );
    const context = new InvocationContext({
      invocationId: randomUuid(this.invocationIds),
      functionName: registration.name,
      logHandler: (level, ...args) =>
        this.options.log?.(
          level,
          registration.name,
          args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
        ),
      options: { trigger: registration.trigger as never, extraInputs: inputs as never[], extraOutputs: [] },
    });
    for (const input of inputs) {
      if (isDurableClient(input))
        context.extraInputs.set(input.name, this.rpc.clientBinding(this.functionKey));
    }
    return context;
  }
}

function isDurableClient(binding: Binding): boolean {
  return binding.type === 'durableClient' || binding.type === 'orchestrationClient';
}

/** Matches an Azure Functions route template ("runs/{id}", "runs/{id?}") against a path. */
function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const t = template.replace(/^\/+|\/+$/g, '').split('/');
  const p = path
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s !== '');
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const segment = t[i]!;
    const param = /^\{(\w+)(\?)?(?::[^}]*)?\}$/.exec(segment);
    const value = p[i];
    if (param) {
      if (value === undefined) {
        if (param[2]) continue;
        return undefined;
      }
      params[param[1]!] = decodeURIComponent(value);
    } else if (value?.toLowerCase() !== segment.toLowerCase()) {
      return undefined;
    }
  }
  return p.length <= t.length ? params : undefined;
}

function plain(status: number, message: string): HttpResult {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: message }),
  };
}
