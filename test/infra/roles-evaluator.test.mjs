// Cross-check of the fake cloud's role reader (src/rbac/template-roles.ts) against the real Bicep:
// for each parameter set, the role assignments (principal, role GUID, scope) it reads from
// dist/infra/main.json, the identities, and the tags of the scopes equal what `bicep snapshot`
// predicts for infra/main.bicep. The reader is TypeScript, so it runs through tsx
// (scripts/template-roles.ts --json) in a child process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SUBSCRIPTION_ID, TENANT_ID, repoRoot, snapshot } from './lib/bicep.mjs';
import { resourcesOf, roleAssignments } from './lib/arm.mjs';
import { OPERATOR_ID } from './scenarios.mjs';

const workDir = path.join(repoRoot, '.tools/infra-test/roles-evaluator');

/** The TypeScript reader's result for a parameters object (undefined: the simulator's own parameters). */
function readWithTypeScript(name, params) {
  mkdirSync(workDir, { recursive: true });
  const args = ['scripts/template-roles.ts', 'dist/infra/main.json', '--json'];
  if (params) {
    const file = path.join(workDir, `${name}.parameters.json`);
    writeFileSync(file, JSON.stringify(params, null, 2));
    args.push('--parameters', file);
  }
  args.push('--subscription-id', SUBSCRIPTION_ID, '--tenant-id', TENANT_ID, '--location', 'westeurope');
  const out = execFileSync(path.join(repoRoot, 'node_modules/.bin/tsx'), args, {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

const fileValues = (file) =>
  Object.fromEntries(
    Object.entries(JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')).parameters).map(([k, v]) => [
      k,
      v.value,
    ]),
  );

// Which identity each identity module of main.bicep creates (the snapshot names the module).
const IDENTITY_SUFFIX = {
  orchestrator: '-orchestrator',
  packer: '-packer',
  linuxRunner: '-linux-runners',
  windowsAgent: '-windows-agents',
};

/** "who | role GUID | scope" rows of a snapshot, principals named as the TypeScript reader names them. */
function snapshotRows(snap) {
  const identities = resourcesOf(snap, 'Microsoft.ManagedIdentity/userAssignedIdentities').map((r) => r.name);
  return roleAssignments(snap)
    .map((g) => {
      let who;
      if (g.actor.startsWith('principal:')) who = `parameter ${g.actor.slice('principal:'.length)}`;
      else {
        const suffix = IDENTITY_SUFFIX[g.actor];
        assert.ok(suffix, `unexpected principal expression ${g.principalExpr}`);
        const matches = identities.filter((n) => n.endsWith(suffix));
        assert.equal(matches.length, 1, `identity of ${g.actor}: ${identities.join(', ')}`);
        who = `identity ${matches[0]}`;
      }
      return `${who} | ${g.roleId.toLowerCase()} | ${g.scope}`;
    })
    .sort();
}

function typeScriptRows(result) {
  return result.assignments
    .map((a) => {
      const who = a.principal.kind === 'identity' ? `identity ${a.principal.name}` : `parameter ${a.principal.value}`;
      return `${who} | ${a.roleDefinitionId} | ${a.scope}`;
    })
    .sort();
}

const simulator = readWithTypeScript('simulator');

const cases = {
  simulator: { params: simulator.parameters },
  'simulator-operator': { params: { ...simulator.parameters, principalId: OPERATOR_ID } },
  dev: { jsonParametersFile: 'infra/base/parameters.dev.json' },
  prod: {
    jsonParametersFile: 'infra/base/parameters.prod.json',
    params: { principalId: OPERATOR_ID, principalType: 'User' },
  },
  'existing-gallery': {
    params: {
      environmentName: 'ops',
      location: 'westeurope',
      github: { scope: 'repo', owner: 'acme', repo: 'build', auth: 'pat' },
      createGallery: false,
      galleryName: 'gal_shared',
      galleryResourceGroupName: 'rg-shared-images',
      useGalleryImages: true,
      windowsFleet: { enabled: false },
      linuxFleet: { canaryInstanceCount: 0 },
      secretsReady: true,
    },
  },
};

describe('the TypeScript role reader agrees with bicep snapshot', () => {
  for (const [name, { params = {}, jsonParametersFile }] of Object.entries(cases)) {
    it(`${name}: the same role assignments, identities and scope tags`, () => {
      const snap = snapshot(`roles-${name}`, { template: 'infra/main.bicep', params, jsonParametersFile });
      const values = { ...(jsonParametersFile ? fileValues(jsonParametersFile) : {}), ...params };
      const ours = name === 'simulator' ? simulator : readWithTypeScript(name, values);

      const expected = snapshotRows(snap);
      assert.ok(expected.length > 0, 'the snapshot has role assignments');
      assert.deepEqual(typeScriptRows(ours), expected);

      assert.deepEqual(
        ours.identities.map((i) => i.resourceId).sort(),
        resourcesOf(snap, 'Microsoft.ManagedIdentity/userAssignedIdentities')
          .map((r) => r.id)
          .sort(),
      );

      // Tags of scopes the template creates (scale sets, resource groups, ...) are the snapshot's.
      for (const a of ours.assignments) {
        const resource = snap.predictedResources.find((r) => r.id.toLowerCase() === a.scope.toLowerCase());
        if (a.scopeTags === undefined) continue;
        assert.ok(resource, `scope ${a.scope} is declared in the snapshot`);
        assert.deepEqual(a.scopeTags, resource.tags ?? {}, a.scope);
      }
    });
  }
});
