// Rules read from the compiled ARM template (dist/infra/main.json) and the parameters files:
// descriptions, secure inputs, outputs without secrets, role assignment naming, and that both
// parameters files fit the template's parameters (names, types, allowed values, required).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadCompiledTemplate, repoRoot, snapshot } from './lib/bicep.mjs';
import { FORBIDDEN_ROLES, checkParametersFile } from './lib/arm.mjs';
import { scenarios } from './scenarios.mjs';

const template = loadCompiledTemplate();

function bicepSources(dir = path.join(repoRoot, 'infra')) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? bicepSources(path.join(dir, e.name))
      : e.name.endsWith('.bicep')
        ? [path.join(dir, e.name)]
        : [],
  );
}
const readJson = (p) => JSON.parse(readFileSync(path.join(repoRoot, p), 'utf8'));

/** The main template and every nested module template, with a path for messages. */
function* templates(t = template, where = 'main') {
  yield { t, where };
  const resources = Array.isArray(t.resources)
    ? t.resources.map((r) => [r.name, r])
    : Object.entries(t.resources ?? {});
  for (const [name, r] of resources) {
    if (r.type === 'Microsoft.Resources/deployments' && r.properties?.template) {
      yield* templates(r.properties.template, `${where}/${name}`);
    }
  }
}

function* resourcesOf(t) {
  const list = Array.isArray(t.resources) ? t.resources : Object.values(t.resources ?? {});
  yield* list;
}

describe('compiled template', () => {
  it('targets the subscription, so azd can create the resource groups', () => {
    assert.match(template.$schema, /subscriptionDeploymentTemplate\.json/);
  });

  it('describes every parameter of every template with Required. or Optional.', () => {
    const bad = [];
    for (const { t, where } of templates()) {
      for (const [name, p] of Object.entries(t.parameters ?? {})) {
        const d = p.metadata?.description ?? '';
        if (!/^(Required|Optional)\. /.test(d)) bad.push(`${where}:${name} "${d}"`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('describes every property of every custom type with Required. or Optional.', () => {
    const bad = [];
    const visit = (schema, where) => {
      for (const [name, p] of Object.entries(schema.properties ?? {})) {
        const d = p.metadata?.description ?? '';
        if (!/^(Required|Optional)\. /.test(d)) bad.push(`${where}.${name} "${d}"`);
        visit(p, `${where}.${name}`);
      }
    };
    for (const { t, where } of templates()) {
      for (const [name, def] of Object.entries(t.definitions ?? {})) visit(def, `${where}#${name}`);
    }
    assert.deepEqual(bad, []);
  });

  it('uses literal-union types, not @allowed, for enumerations (house style)', () => {
    const offenders = bicepSources().filter((f) => /^\s*@allowed\(/m.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('starts every Bicep file with a comment that says what it is for', () => {
    const offenders = bicepSources().filter((f) => !/^\/\/ \S/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('keeps the administrator passwords secure and without a default value', () => {
    for (const name of ['linuxAdminPassword', 'windowsAdminPassword']) {
      assert.equal(template.parameters[name].type, 'securestring', name);
      assert.ok(!template.parameters[name].defaultValue, `${name} has a default value`);
    }
  });

  it('returns no secret from any template output', () => {
    const problems = [];
    for (const { t, where } of templates()) {
      const secureParams = Object.entries(t.parameters ?? {})
        .filter(([, p]) => /^secure/i.test(p.type ?? ''))
        .map(([n]) => n);
      for (const [name, o] of Object.entries(t.outputs ?? {})) {
        const text = JSON.stringify(o);
        if (/^secure/i.test(o.type ?? '')) problems.push(`${where}.${name}: secure output type`);
        if (/\blist\w*\(/.test(text)) problems.push(`${where}.${name}: calls a list* function`);
        if (/password|connectionstring|sharedkey|accesskey|token/i.test(name))
          problems.push(`${where}.${name}: secret-like name`);
        for (const p of secureParams)
          if (text.includes(`parameters('${p}')`)) problems.push(`${where}.${name}: returns ${p}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('names every role assignment with guid(scope, principal, role)', () => {
    let count = 0;
    for (const { t, where } of templates()) {
      for (const r of resourcesOf(t)) {
        if (r.type !== 'Microsoft.Authorization/roleAssignments') continue;
        count += 1;
        assert.match(r.name, /^\[guid\(/, `${where}: ${r.name}`);
        const principal = r.properties.principalId.replace(/^\[|\]$/g, '');
        const role = r.properties.roleDefinitionId.replace(/^\[|\]$/g, '');
        assert.ok(r.name.includes(principal), `${where}: name does not derive from the principal`);
        assert.ok(r.name.includes(role), `${where}: name does not derive from the role`);
      }
    }
    assert.ok(count >= 7, `expected the modules' role assignments, found ${count}`);
  });

  it('is deterministic: no utcNow() or newGuid(), so deploying twice changes nothing', () => {
    const text = JSON.stringify(template);
    assert.doesNotMatch(text, /utcNow\(|newGuid\(/);
  });

  it('never mentions Owner, User Access Administrator or RBAC Administrator', () => {
    const text = JSON.stringify(template);
    for (const [id, name] of Object.entries(FORBIDDEN_ROLES))
      assert.ok(!text.includes(id), `${name} (${id}) appears`);
  });

  it('assigns roles at subscription scope only through subscriptionRoles (the orchestrator\'s Reader)', () => {
    for (const r of resourcesOf(template)) assert.notEqual(r.type, 'Microsoft.Authorization/roleAssignments');
    for (const [name, r] of Object.entries(template.resources)) {
      if (r.type !== 'Microsoft.Resources/deployments') continue;
      const nestedHasRoles = [...resourcesOf(r.properties.template)].some(
        (x) => x.type === 'Microsoft.Authorization/roleAssignments',
      );
      if (nestedHasRoles && !r.resourceGroup)
        assert.equal(name, 'subscriptionRoles', `${name} assigns roles but does not target a resource group`);
    }
  });
});

describe('parameters files', () => {
  for (const env of ['dev', 'prod']) {
    const file = `infra/base/parameters.${env}.json`;

    it(`${file} fits the template (names, types, allowed values, required)`, () => {
      assert.deepEqual(checkParametersFile(template, readJson(file)), []);
    });

    it(`${file} sets the seed README toggles`, () => {
      const p = readJson(file).parameters;
      for (const name of ['createGallery', 'useGalleryImages', 'linuxUsePassword'])
        assert.equal(typeof p[name]?.value, 'boolean', name);
      for (const name of ['linuxImageVersion', 'windowsImageVersion'])
        assert.equal(typeof p[name]?.value, 'string', name);
      assert.equal(p.linuxUsePassword.value, false, 'password sign-in must stay off in the committed files');
    });

    it(`${file} gives no secure parameter a literal value`, () => {
      const p = readJson(file).parameters;
      for (const [name, entry] of Object.entries(p)) {
        if (/^secure/i.test(template.parameters[name]?.type ?? ''))
          assert.ok(!('value' in entry), `${name} is secure: use a Key Vault reference`);
      }
    });
  }

  it('the validator rejects what the template would reject', () => {
    const bad = readJson('infra/base/parameters.dev.json');
    bad.parameters.github.value.scope = 'team';
    bad.parameters.linuxFleet.value.computerNamePrefix = 'far-too-long-prefix';
    bad.parameters.linuxFleet.value.colour = 'blue';
    bad.parameters.createGallery.value = 'yes';
    bad.parameters.notAParameter = { value: 1 };
    delete bad.parameters.location;
    const problems = checkParametersFile(template, bad).join('\n');
    for (const expected of [
      'github.scope',
      'computerNamePrefix: longer than 8',
      'linuxFleet.colour: unknown property',
      'createGallery: expected bool',
      'notAParameter: not a parameter',
      'location: required parameter missing',
    ]) {
      assert.ok(problems.includes(expected), `missing problem "${expected}" in:\n${problems}`);
    }
  });

  it('Bicep itself accepts each file (type-checked through loadJsonContent)', () => {
    for (const env of ['dev', 'prod']) {
      const s = scenarios[env]();
      assert.deepEqual(s.diagnostics, [], env);
      assert.equal(s.cliOutput.trim(), '', env);
      assert.ok(s.predictedResources.length > 40, `${env}: ${s.predictedResources.length} resources`);
    }
  });

  it('Bicep rejects a file with a wrong value, so the check above can fail', () => {
    const bad = readJson('infra/base/parameters.dev.json');
    bad.parameters.github.value.auth = 'password';
    // Written under .tools/ (git-ignored) so the committed files stay untouched.
    const dir = path.join(repoRoot, '.tools/infra-test');
    const file = path.join(dir, 'bad-parameters.json');
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(bad));
    assert.throws(
      () =>
        snapshot('params-bad', {
          template: 'infra/main.bicep',
          jsonParametersFile: path.relative(repoRoot, file),
        }),
      /BCP036|expected a value of type/,
    );
  });

  it("azd's infra/main.parameters.json names only template parameters", () => {
    const p = readJson('infra/main.parameters.json').parameters;
    for (const name of Object.keys(p)) assert.ok(name in template.parameters, name);
    for (const name of ['environmentName', 'location', 'principalId', 'github'])
      assert.ok(name in p, `azd must pass ${name}`);
  });
});
