// azure.yaml checked against azd's documented schema (schemas/v1.0/azure.yaml.json): required keys,
// the name pattern, service hosts and languages azd knows, the rules for function hosts and hooks,
// and that the paths it names exist; plus the tag azd uses to find the Function App.
import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from './lib/bicep.mjs';
import { resourcesOf } from './lib/arm.mjs';
import { scenarios } from './scenarios.mjs';

const HOSTS = [
  'appservice',
  'containerapp',
  'function',
  'springapp',
  'staticwebapp',
  'aks',
  'ai.endpoint',
  'azure.ai.agent',
  'microsoft.foundry',
];
const LANGUAGES = [
  'dotnet',
  'csharp',
  'fsharp',
  'py',
  'python',
  'js',
  'ts',
  'java',
  'go',
  'golang',
  'docker',
];
const SERVICE_KEYS = [
  'apiVersion',
  'resourceGroup',
  'resourceName',
  'project',
  'image',
  'host',
  'language',
  'module',
  'dist',
  'remoteBuild',
  'docker',
  'k8s',
  'config',
  'uses',
  'env',
  'hooks',
];

// A hook's own keys (definitions.hook); one with posix and windows variants has only those two.
const HOOK_KEYS = ['shell', 'kind', 'dir', 'run', 'continueOnError', 'interactive', 'secrets', 'config'];

const azureYaml = parse(readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8'));

describe('azure.yaml', () => {
  it('has a valid application name', () => {
    assert.equal(typeof azureYaml.name, 'string');
    assert.ok(azureYaml.name.length >= 2);
    assert.match(azureYaml.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('provisions infra/main.bicep with the Bicep provider', () => {
    const infra = azureYaml.infra ?? {};
    assert.equal(infra.provider ?? 'bicep', 'bicep');
    const dir = path.join(repoRoot, infra.path ?? 'infra');
    assert.ok(existsSync(path.join(dir, `${infra.module ?? 'main'}.bicep`)));
    assert.ok(
      existsSync(path.join(dir, `${infra.module ?? 'main'}.parameters.json`)),
      'azd reads <module>.parameters.json',
    );
  });

  it('declares the kiln service as a TypeScript Function App built from the repository root', () => {
    const services = azureYaml.services ?? {};
    assert.ok(Object.keys(services).length >= 1, 'services needs at least one entry');
    const kiln = services.kiln;
    assert.ok(kiln, 'service kiln');
    for (const [name, svc] of Object.entries(services)) {
      assert.ok(HOSTS.includes(svc.host), `${name}: unknown host ${svc.host}`);
      if (svc.language !== undefined)
        assert.ok(LANGUAGES.includes(svc.language), `${name}: unknown language ${svc.language}`);
      for (const key of Object.keys(svc))
        assert.ok(SERVICE_KEYS.includes(key), `${name}: unknown key ${key}`);
    }
    assert.equal(kiln.host, 'function');
    assert.equal(kiln.language, 'ts');
    // Function hosts require a project and take no container settings.
    assert.equal(typeof kiln.project, 'string');
    for (const key of ['image', 'docker', 'k8s', 'apiVersion', 'env'])
      assert.equal(kiln[key], undefined, key);
    if ('remoteBuild' in kiln) assert.equal(typeof kiln.remoteBuild, 'boolean');
  });

  it('points at a Node project whose build script produces the app', () => {
    const project = path.join(repoRoot, azureYaml.services.kiln.project);
    const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'));
    assert.ok(pkg.scripts?.build, 'npm run build exists');
    assert.match(pkg.main ?? '', /^dist\//);
  });

  it("creates the registration broker's Entra application before every provision: sh on POSIX, pwsh on Windows", () => {
    const hook = azureYaml.hooks?.preprovision;
    assert.ok(hook, 'hooks.preprovision');
    assert.deepEqual(Object.keys(hook).sort(), ['posix', 'windows']);
    assert.deepEqual(
      [hook.posix.shell, hook.posix.run, hook.windows.shell, hook.windows.run],
      ['sh', 'infra/hooks/registration-app.sh', 'pwsh', 'infra/hooks/registration-app.ps1'],
    );
    for (const variant of [hook.posix, hook.windows]) {
      for (const key of Object.keys(variant)) assert.ok(HOOK_KEYS.includes(key), `unknown hook key ${key}`);
      assert.ok(existsSync(path.join(repoRoot, variant.run)), variant.run);
      assert.notEqual(variant.continueOnError, true, 'a failed hook stops the provision');
    }
    // On POSIX azd runs the file itself (its #! line), so it must be executable.
    accessSync(path.join(repoRoot, hook.posix.run), constants.X_OK);
    assert.match(readFileSync(path.join(repoRoot, hook.posix.run), 'utf8'), /^#!\/usr\/bin\/env bash\n/);
  });

  it('the Function App carries azd-service-name for that service', () => {
    const [site] = resourcesOf(scenarios.dev(), 'Microsoft.Web/sites');
    assert.ok(Object.keys(azureYaml.services).includes(site.tags['azd-service-name']));
  });

  it('exactly one resource group carries azd-env-name, and main.bicep outputs it for azd', () => {
    const snap = scenarios.dev();
    const tagged = resourcesOf(snap, 'Microsoft.Resources/resourceGroups').filter(
      (rg) => rg.tags?.['azd-env-name'],
    );
    assert.deepEqual(
      tagged.map((rg) => rg.name),
      ['rg-dev'],
    );
    assert.equal(snap.outputs.AZURE_RESOURCE_GROUP, 'rg-dev');
    const rg = azureYaml.services.kiln.resourceGroup;
    if (rg !== undefined) assert.equal(rg, '${AZURE_RESOURCE_GROUP}');
  });
});
