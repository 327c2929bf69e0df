// One cold-start sample in a fresh `node` process (plain JavaScript: no loader to skew the numbers).
//   node scripts/bench/cold-start.mjs bundle                 the deployed bundle (dist/app/index.js)
//   node scripts/bench/cold-start.mjs naive DIR PKG…         every PKG imported eagerly from node_modules,
//                                                            then the app compiled file by file in DIR
// Both run behind a stand-in for @azure/functions-core (as src/local/host/functions-core.ts) that counts
// the registered functions. Prints {"ms":…, "functions":…}: milliseconds from before the first import
// until every function is registered.
import Module from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const STAND_IN = '@azure/functions-core (bench)';
let functions = 0;
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@azure/functions-core') return STAND_IN;
  return resolveFilename.call(this, request, ...rest);
};
Module._cache[STAND_IN] = {
  id: STAND_IN,
  filename: STAND_IN,
  loaded: true,
  exports: {
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook: () => ({ dispose: () => undefined }),
    log: () => undefined,
    registerFunction: () => {
      functions++;
      return { dispose: () => undefined };
    },
  },
};

const [mode, dir, ...packages] = process.argv.slice(2);
const started = performance.now();
if (mode === 'bundle') {
  await import(pathToFileURL(resolve('dist/app/index.js')).href);
} else if (mode === 'naive') {
  // Bare names resolve from this file up to the project's node_modules.
  for (const name of packages) await import(name);
  await import(pathToFileURL(resolve(dir, 'functions/index.js')).href);
} else {
  throw new Error('usage: cold-start.mjs bundle | naive DIR PKG…');
}
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ms, functions, sinceProcessStartMs: performance.now() })}\n`);
