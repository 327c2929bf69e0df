// Helpers that run the real Bicep CLI for the infra tests: find it (PATH first, then .tools/bin as
// installed by .ci/setup-infra.sh) and evaluate a template with parameters through `bicep snapshot`,
// which resolves every deterministic expression offline (names, conditions, loops, tags, role ids)
// and leaves only runtime values such as reference() as expressions.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SUBSCRIPTION_ID = '00000000-0000-0000-0000-00000000a001';
export const TENANT_ID = '00000000-0000-0000-0000-00000000b002';

export function findBicep() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'bicep');
    if (dir && existsSync(candidate)) return candidate;
  }
  const local = path.join(repoRoot, '.tools/bin/bicep');
  if (existsSync(local)) return local;
  throw new Error('no bicep CLI: run bash .ci/setup-infra.sh');
}

/** Bicep literal for a JSON value (objects and arrays on one line, strings single-quoted). */
export function toBicepLiteral(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\$\{/g, '\\${')}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[\n${value.map((v) => toBicepLiteral(v)).join('\n')}\n]`;
  const entries = Object.entries(value).map(([k, v]) => `'${k}': ${toBicepLiteral(v)}`);
  return `{\n${entries.join('\n')}\n}`;
}

/**
 * Evaluates `template` (path relative to the repo) with `params` through `bicep snapshot`.
 * `params` maps parameter names to JSON values; `jsonParametersFile` (repo-relative) adds every
 * parameter of an ARM parameters file, loaded with loadJsonContent so Bicep type-checks the file's
 * own values against the template. Returns { predictedResources, outputs, diagnostics }.
 */
export function snapshot(name, { template, params = {}, jsonParametersFile, resourceGroup }) {
  const dir = path.join(repoRoot, '.tools/infra-test', name);
  mkdirSync(dir, { recursive: true });
  const rel = (p) => path.relative(dir, path.join(repoRoot, p)).split(path.sep).join('/');
  const lines = [`using '${rel(template)}'`, ''];
  if (jsonParametersFile) {
    const file = JSON.parse(readFileSync(path.join(repoRoot, jsonParametersFile), 'utf8'));
    lines.push(`var file = loadJsonContent('${rel(jsonParametersFile)}').parameters`);
    for (const key of Object.keys(file.parameters)) lines.push(`param ${key} = file.${key}.value`);
  }
  for (const [key, value] of Object.entries(params)) lines.push(`param ${key} = ${toBicepLiteral(value)}`);
  const paramFile = path.join(dir, `${name}.bicepparam`);
  const paramText = `${lines.join('\n')}\n`;
  // Snapshots take seconds; several test files evaluate the same scenario, so a result is reused
  // while the parameters and every Bicep and JSON input under infra/ are unchanged.
  const key = inputsHash(paramText, jsonParametersFile, resourceGroup);
  const cached = path.join(dir, `${name}.snapshot.json`);
  const keyFile = path.join(dir, `${name}.key`);
  if (existsSync(cached) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) {
    const result = JSON.parse(readFileSync(cached, 'utf8'));
    result.cliOutput = readFileSync(path.join(dir, `${name}.out`), 'utf8');
    return result;
  }
  writeFileSync(paramFile, paramText);
  const args = [
    'snapshot',
    paramFile,
    '--mode',
    'overwrite',
    '--subscription-id',
    SUBSCRIPTION_ID,
    '--tenant-id',
    TENANT_ID,
    '--location',
    'westeurope',
  ];
  if (resourceGroup) args.push('--resource-group', resourceGroup);
  let output;
  try {
    output = execFileSync(findBicep(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`bicep snapshot ${name} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
  const result = JSON.parse(readFileSync(cached, 'utf8'));
  writeFileSync(path.join(dir, `${name}.out`), output);
  writeFileSync(keyFile, key);
  result.cliOutput = output;
  return result;
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

function inputsHash(paramText, jsonParametersFile, resourceGroup) {
  const hash = createHash('sha256').update(paramText).update(String(resourceGroup));
  const inputs = filesUnder(path.join(repoRoot, 'infra')).filter((f) => /\.(bicep|json)$/.test(f));
  if (jsonParametersFile) inputs.push(path.join(repoRoot, jsonParametersFile));
  for (const f of inputs.sort()) hash.update(f).update(readFileSync(f));
  hash.update(readFileSync(path.join(repoRoot, 'bicepconfig.json')));
  return hash.digest('hex');
}

/** The compiled ARM template of infra/main.bicep (built by infra/build.sh). */
export function loadCompiledTemplate() {
  const file = path.join(repoRoot, 'dist/infra/main.json');
  if (!existsSync(file)) throw new Error('dist/infra/main.json missing: run npm run build:infra');
  return JSON.parse(readFileSync(file, 'utf8'));
}
