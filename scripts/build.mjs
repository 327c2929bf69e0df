// Bundles the deployable app: one ESM file that registers every function, loaded by the Functions
// host (package.json "main"). The local runner, fake cloud and CLI are not reachable from the entry
// point and so never enter the bundle; a check below makes sure of it.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist/app', { recursive: true, force: true });
mkdirSync('dist/app', { recursive: true });

const result = await build({
  entryPoints: ['src/functions/index.ts'],
  outfile: 'dist/app/index.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  // Provided by the Azure Functions Node worker at run time.
  external: ['@azure/functions-core'],
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

const leaked = Object.keys(result.metafile.inputs).filter((file) => /^src\/(local|cli)\//.test(file));
if (leaked.length > 0) {
  console.error(`the deployed bundle must not contain dev-only code, found: ${leaked.join(', ')}`);
  process.exit(1);
}
writeFileSync('dist/app/meta.json', JSON.stringify(result.metafile));
const size = readFileSync('dist/app/index.js').length;
console.log(
  `dist/app/index.js: ${(size / 1024).toFixed(0)} KiB, ${Object.keys(result.metafile.inputs).length} modules`,
);
