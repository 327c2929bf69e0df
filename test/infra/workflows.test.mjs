// The GitHub workflows: valid YAML with the shape GitHub requires, every action pinned (a full commit
// SHA or an exact version tag), CI running the README's test command, and deployment through azd
// with OIDC federation and no stored cloud credential.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from './lib/bicep.mjs';

const dir = path.join(repoRoot, '.github/workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const load = (f) => ({
  text: readFileSync(path.join(dir, f), 'utf8'),
  doc: parse(readFileSync(path.join(dir, f), 'utf8')),
});

/** Every `uses:` of a workflow (job-level reusable workflows and step actions). */
function uses(doc) {
  const found = [];
  for (const job of Object.values(doc.jobs ?? {})) {
    if (job.uses) found.push(job.uses);
    for (const step of job.steps ?? []) if (step.uses) found.push(step.uses);
  }
  return found;
}

export function isPinned(ref) {
  if (ref.startsWith('./')) return true; // an action in this repository
  if (ref.startsWith('docker://')) return /@sha256:[0-9a-f]{64}$/.test(ref);
  const m = /^[\w.-]+\/[\w./-]+@(.+)$/.exec(ref);
  if (!m) return false;
  return /^[0-9a-f]{40}$/.test(m[1]) || /^v\d+\.\d+\.\d+$/.test(m[1]);
}

describe('workflows', () => {
  it('ci.yml and deploy.yml exist', () => {
    assert.ok(files.includes('ci.yml'));
    assert.ok(files.includes('deploy.yml'));
  });

  for (const f of files) {
    it(`${f} parses and has on/jobs with steps`, () => {
      const { doc } = load(f);
      assert.equal(typeof doc.name, 'string');
      assert.ok(doc.on, 'on');
      assert.ok(Object.keys(doc.jobs ?? {}).length > 0, 'jobs');
      for (const [name, job] of Object.entries(doc.jobs)) {
        assert.ok(job['runs-on'] || job.uses, `${name}: runs-on`);
        for (const step of job.steps ?? [])
          assert.ok(step.uses || step.run, `${name}: a step needs uses or run`);
      }
    });

    it(`${f} pins every action`, () => {
      const refs = uses(load(f).doc);
      assert.ok(refs.length > 0);
      assert.deepEqual(
        refs.filter((r) => !isPinned(r)),
        [],
      );
    });
  }

  it('the pin check rejects floating references', () => {
    for (const ref of [
      'actions/checkout@v4',
      'actions/checkout@main',
      'Azure/setup-azd@v2',
      'actions/checkout@11bd719',
      'docker://alpine:3',
    ]) {
      assert.equal(isPinned(ref), false, ref);
    }
  });

  it('ci.yml runs the README test command through .ci/run', () => {
    const { doc } = load('ci.yml');
    const runs = Object.values(doc.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ''));
    assert.ok(
      runs.some((r) => /bash \.ci\/run\b/.test(r) || /npm run test:all\b/.test(r)),
      runs.join('\n'),
    );
    assert.deepEqual(doc.permissions, { contents: 'read' }, 'CI needs read access only');
    const ciRun = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
    assert.match(ciRun, /npm run test:all/);
  });

  it('deploy.yml signs in with OIDC federation and stores no cloud secret', () => {
    const { doc, text } = load('deploy.yml');
    assert.equal(doc.permissions['id-token'], 'write');
    const runs = Object.values(doc.jobs)
      .flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ''))
      .join('\n');
    assert.match(runs, /azd auth login[\s\S]*--federated-credential-provider github/);
    assert.match(runs, /azd provision --no-prompt/);
    assert.match(runs, /azd deploy --no-prompt/);
    assert.doesNotMatch(text, /client-secret|AZURE_CLIENT_SECRET|AZURE_CREDENTIALS|creds:/i);
    assert.match(text, /AZURE_CLIENT_ID: \$\{\{ vars\.AZURE_CLIENT_ID \}\}/);
    assert.ok(uses(doc).some((u) => u.startsWith('Azure/setup-azd@')));
    // The preprovision hook creates the broker's Entra application with the Azure CLI, signed in by OIDC too.
    const login = Object.values(doc.jobs)
      .flatMap((j) => j.steps ?? [])
      .find((s) => String(s.uses ?? '').startsWith('azure/login@'));
    assert.ok(login, 'an azure/login step signs the Azure CLI in for the preprovision hook');
    assert.deepEqual(Object.keys(login.with).sort(), ['client-id', 'subscription-id', 'tenant-id']);
    for (const name of ['KILN_GITHUB_REGISTRATION', 'KILN_ADO_REGISTRATION', 'KILN_REGISTRATION_AUDIENCE'])
      assert.match(text, new RegExp(`${name}: \\$\\{\\{ vars\\.${name} \\}\\}`));
  });
});
