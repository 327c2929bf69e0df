// The azd preprovision hooks (infra/hooks/registration-app.sh and .ps1) create the Entra application
// of the audience main.bicep hands the runners and the app. Nothing but this test ties the two
// computations together: for an environment name that exercises every rule of envSlug (capitals,
// '_', '.'), the audience each hook stores must be the one the evaluated template uses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, snapshot } from './lib/bicep.mjs';
import { resourcesOf } from './lib/arm.mjs';

const ENV_NAME = 'Dev_Team.One';
const fakes = path.join(repoRoot, 'test/infra/hooks/fake');
const work = mkdtempSync(path.join(tmpdir(), 'kiln-registration-app-'));
after(() => rmSync(work, { recursive: true, force: true }));

let bicepAudience;
before(() => {
  const snap = snapshot('hook-audience', {
    template: 'infra/main.bicep',
    params: {
      environmentName: ENV_NAME,
      location: 'westeurope',
      github: { scope: 'org', owner: 'acme', registration: 'jit' },
    },
  });
  const settings = resourcesOf(snap, 'Microsoft.Web/sites/config')[0].properties;
  bicepAudience = settings.match(
    /createObject\('key', 'KILN_REGISTRATION_AUDIENCE', 'value', '([^']*)'\)/,
  )?.[1];
});

/** Real PowerShell: pwsh on PATH, or the host .ci/setup-windows-image.sh builds. */
function findPwsh() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'pwsh'))) return path.join(dir, 'pwsh');
  }
  const hosted = path.join(repoRoot, '.tools/pwsh-host/bin/Release/net10.0/linux-x64/pwsh-host');
  if (existsSync(hosted)) return hosted;
  throw new Error('no PowerShell: run bash .ci/setup-windows-image.sh');
}

/** Runs a hook with the fake az and azd in an empty tenant; returns the audience it stored. */
function storedAudience(name, command, args) {
  const state = path.join(work, name);
  mkdirSync(path.join(state, 'apps'), { recursive: true });
  writeFileSync(path.join(state, 'tenant'), '7a1e0000-0000-4000-8000-00000000cafe\n');
  const env = { ...process.env, PATH: `${fakes}${path.delimiter}${process.env.PATH}`, FAKE_AZ_STATE: state };
  for (const key of [
    'KILN_GITHUB_REGISTRATION',
    'KILN_ADO_REGISTRATION',
    'KILN_REGISTRATION_AUDIENCE',
    'AZURE_TENANT_ID',
  ])
    delete env[key];
  env.AZURE_ENV_NAME = ENV_NAME;
  execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return readFileSync(path.join(state, 'azd-env/KILN_REGISTRATION_AUDIENCE'), 'utf8');
}

describe('registration-app hooks and main.bicep', () => {
  it("main.bicep's default audience for the environment name", () => {
    assert.equal(bicepAudience, 'api://kiln-dev-team-one-registrations');
  });

  it('registration-app.sh stores the audience main.bicep uses', () => {
    assert.equal(
      storedAudience('sh', path.join(repoRoot, 'infra/hooks/registration-app.sh'), []),
      bicepAudience,
    );
  });

  it('registration-app.ps1 stores the audience main.bicep uses', () => {
    const hook = path.join(repoRoot, 'infra/hooks/registration-app.ps1');
    assert.equal(
      storedAudience('ps1', findPwsh(), ['-NoProfile', '-NonInteractive', '-File', hook]),
      bicepAudience,
    );
  });
});
