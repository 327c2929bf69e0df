/**
 * A stand-in for `@azure/functions-core`, the module the Azure Functions Node worker provides to
 * `@azure/functions`. Served under that name before the app is loaded, it captures every function
 * registration exactly as the worker would receive it: metadata (bindings, schedules, routes, auth
 * levels) and handler.
 */
import Module from 'node:module';

export interface Binding {
  name: string;
  type: string;
  direction: 'in' | 'out';
  [setting: string]: unknown;
}

export interface Registration {
  name: string;
  bindings: Record<string, Binding>;
  trigger: Binding;
  handler: (...args: unknown[]) => unknown;
}

const STAND_IN_ID = '@azure/functions-core (kiln local host)';
const registrations: Registration[] = [];
let installed = false;

interface ModuleInternals {
  _resolveFilename: (request: string, ...rest: unknown[]) => string;
  _cache: Record<string, { id: string; filename: string; loaded: boolean; exports: unknown }>;
}

/** Installs the stand-in; must run before anything calls `app.*` (the library caches the lookup). */
export function installFunctionsCoreStandIn(): Registration[] {
  if (installed) return registrations;
  installed = true;
  const internals = Module as unknown as ModuleInternals;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') return STAND_IN_ID;
    return resolve.call(this, request, ...rest);
  };
  internals._cache[STAND_IN_ID] = {
    id: STAND_IN_ID,
    filename: STAND_IN_ID,
    loaded: true,
    exports: {
      setProgrammingModel: () => undefined,
      getProgrammingModel: () => undefined,
      registerHook: () => ({ dispose: () => undefined }),
      log: () => undefined,
      registerFunction(
        metadata: { name: string; bindings: Record<string, Omit<Binding, 'name'>> },
        handler: Registration['handler'],
      ) {
        const bindings = Object.fromEntries(
          Object.entries(metadata.bindings).map(([name, b]) => [name, { ...b, name } as Binding]),
        );
        const trigger = Object.values(bindings).find((b) => /trigger$/i.test(b.type));
        if (!trigger) throw new Error(`function "${metadata.name}" has no trigger binding`);
        registrations.push({ name: metadata.name, bindings, trigger, handler });
        return { dispose: () => undefined };
      },
    },
  };
  return registrations;
}
