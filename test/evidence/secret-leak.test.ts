/**
 * The secret-leak check (issue 9, S6): every flow — cleanup, a rollout started by Event Grid, both
 * image rebuilds — runs with sentinel values for every secret the fake vault holds (GitHub App key,
 * GitHub PAT, Azure DevOps PAT), and nothing kiln writes may contain them: the app's log lines,
 * every orchestration history (inputs, outputs, custom status, every execution including those
 * replaced by continue-as-new), the report, and the HTTP answers (starts, durable status with
 * history, the operator API). The bearer tokens the fake cloud issues are searched for too, and so
 * are what the registration broker gives a runner VM (a JIT config) and an agent VM (kiln's Azure
 * DevOps PAT or Entra token), outside the one answer that gives each.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REGISTRATION_AUDIENCE } from '../../src/local/fake-cloud/index.js';
import { TokenIssuer } from '../../src/local/fake-cloud/tokens.js';
import { LocalDurableRunner } from '../../src/local/durable/runner.js';
import { LocalAppHost, type HttpResult } from '../../src/local/host/app-host.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

const APP_KEY = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const PEM_LINES = APP_KEY.split('\n').filter((l) => l && !l.startsWith('-----'));
const GITHUB_PAT = 'ghp_SENTINELgithubPAT0123456789abcdefXYZ';
const ADO_PAT = 'adopatsentinel0123456789abcdefghijklmnopqrstuv';

/** What must never appear: the secrets, recognisable pieces of them, and their encodings on the wire. */
const STATIC_SENTINELS: Record<string, string> = {
  'GitHub App key (PEM line 2)': PEM_LINES[1]!,
  'GitHub App key (PEM last body line)': PEM_LINES.at(-1)!,
  'GitHub PAT': GITHUB_PAT,
  'GitHub PAT (distinctive part)': 'SENTINELgithubPAT',
  'Azure DevOps PAT': ADO_PAT,
  'Azure DevOps PAT as Basic credentials': Buffer.from(`:${ADO_PAT}`).toString('base64'),
};

/** Tokens the fake identity endpoint and the fake GitHub App flow issued during the run. */
const issued: string[] = [];
const realIssue = TokenIssuer.prototype.issue;
const realIssueFor = TokenIssuer.prototype.issueFor;

/** Every text kiln produced, labelled by where it came from. */
let texts: { where: string; text: string }[] = [];
const realRunEpisode = (LocalDurableRunner.prototype as unknown as Record<string, unknown>).runEpisode as (
  this: unknown,
  instance: unknown,
) => Promise<void>;
const realInvokeHttp = LocalAppHost.prototype.invokeHttp;

beforeEach(() => {
  texts = [];
  TokenIssuer.prototype.issue = function (this: TokenIssuer, ...args: Parameters<TokenIssuer['issue']>) {
    const out = realIssue.apply(this, args);
    issued.push(out.token);
    return out;
  };
  TokenIssuer.prototype.issueFor = function (
    this: TokenIssuer,
    ...args: Parameters<TokenIssuer['issueFor']>
  ) {
    const out = realIssueFor.apply(this, args);
    issued.push(out.token);
    return out;
  };
  // Every execution's history as it stands after each episode: continue-as-new replaces the
  // history, so looking only at the end would miss the inputs of earlier executions.
  (LocalDurableRunner.prototype as unknown as Record<string, unknown>).runEpisode = async function (
    this: unknown,
    instance: { id: string; history: unknown; input: unknown; output: unknown; customStatus: unknown },
  ) {
    await realRunEpisode.call(this, instance);
    texts.push({
      where: `orchestration ${instance.id}`,
      text: JSON.stringify([instance.input, instance.history, instance.output, instance.customStatus]),
    });
  };
  LocalAppHost.prototype.invokeHttp = async function (this: LocalAppHost, call) {
    const response: HttpResult = await realInvokeHttp.call(this, call);
    texts.push({
      where: `HTTP ${call.method} ${call.path} → ${response.status}`,
      text: JSON.stringify(response),
    });
    return response;
  };
});
afterEach(() => {
  TokenIssuer.prototype.issue = realIssue;
  TokenIssuer.prototype.issueFor = realIssueFor;
  (LocalDurableRunner.prototype as unknown as Record<string, unknown>).runEpisode = realRunEpisode;
  LocalAppHost.prototype.invokeHttp = realInvokeHttp;
});

const summary: string[] = [];
afterAll(() => console.error(`secret-leak check:\n${summary.join('\n')}`));

const scenario = () =>
  parseScenario(
    JSON.stringify({
      name: 'secret-leak',
      timers: false,
      trigger: ['cleanup', 'eventgrid', 'http-rebuild'],
      until: '2026-12-03T00:00:00Z',
      gallery: {
        regions: ['westeurope', 'northeurope'],
        existingVersions: { linux: ['2026.8.1', '2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
      },
      images: { linux: { buildMinutes: 10 }, windows: { buildMinutes: 10 } },
      scaleSets: [
        { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2 },
        { name: 'vmss-gh-neu', image: 'linux', region: 'northeurope', capacity: 1 },
        { name: 'vmss-ado', image: 'windows', region: 'westeurope', capacity: 2 },
      ],
      jobs: [{ instance: 'vmss-gh_0', minutes: 20 }],
      ghosts: { github: 2, ado: 1 },
      foreign: { github: 1, ado: 1 },
      // A fault makes the clients write their error paths too.
      faults: [
        { service: 'github', operation: 'deleteRunner', status: 500, times: 1 },
        { service: 'ado', operation: 'listAgents', status: 503, times: 1 },
      ],
      eventgrid: { version: { image: 'linux', version: '2026.11.1' }, duplicates: 2 },
    }),
    'inline',
  );

function search(sentinels: [string, string][], haystack: { where: string; text: string }[]): string[] {
  const hits: string[] = [];
  for (const [name, value] of sentinels)
    for (const { where, text } of haystack) if (text.includes(value)) hits.push(`${name} in ${where}`);
  return hits;
}

it('the search finds a planted secret (the check can fail)', () => {
  const planted = [{ where: 'log', text: `token=${JSON.stringify(APP_KEY)}` }];
  expect(search(Object.entries(STATIC_SENTINELS), planted)).toEqual([
    'GitHub App key (PEM line 2) in log',
    'GitHub App key (PEM last body line) in log',
  ]);
});

describe('no secret reaches logs, orchestration state, reports or HTTP answers (S6)', () => {
  it.each([
    ['GitHub App auth, Azure DevOps PAT', {}],
    ['GitHub PAT auth, Azure DevOps PAT', { GITHUB_AUTH: 'pat' }],
    ['GitHub App auth, Azure DevOps by Entra token', { ADO_AUTH: 'entra' }],
  ])('%s: cleanup, Event Grid rollout and both rebuilds', async (label, settings) => {
    const logs: string[] = [];
    const result = await runSimulation(scenario(), {
      keepRunning: true,
      settings: { CANARY_SOAK_MINUTES: '10', ...settings },
      secrets: { githubAppKey: APP_KEY, githubPat: GITHUB_PAT, adoPat: ADO_PAT },
      log: (line) => logs.push(line),
    });
    try {
      const { report, host } = result;
      // The flows really ran, and really used the secrets.
      expect(report.hygiene.runs).toBeGreaterThan(0);
      // The Event Grid version rolls while the rebuilds' canaries take the same scale sets: one of its
      // scale sets is superseded by the newer canary version, so the rollout ends partial.
      expect(
        report.rollouts.some((r) => r.source === 'eventgrid' && ['succeeded', 'partial'].includes(r.state)),
      ).toBe(true);
      expect(report.images.linux?.state).toBe('promoted');
      expect(report.images.windows?.state).toBe('promoted');
      expect(report.apiCalls.keyvault).toBeGreaterThan(0);
      expect(report.deleted.githubRunners.length + report.deleted.adoAgents.length).toBeGreaterThan(0);

      // What an operator reads over HTTP: every run's durable status with its history, the operator API.
      const get = (path: string) =>
        host.invokeHttp({ method: 'GET', path, headers: { 'x-functions-key': host.functionKey } });
      for (const path of ['/api/runs', '/api/fleet', '/api/dashboard']) await get(path);
      for (const status of host.runner.listInstances()) {
        await get(`/api/runs/${encodeURIComponent(status.instanceId)}`);
        const uri = `${host.durableApiBaseUrl.replace(/\/$/, '')}/instances/${encodeURIComponent(status.instanceId)}?showHistory=true&showHistoryOutput=true&showInput=true`;
        const response = await fetch(uri).catch(() => undefined);
        if (response)
          texts.push({ where: `durable status ${status.instanceId}`, text: await response.text() });
        texts.push({
          where: `history ${status.instanceId}`,
          text: JSON.stringify([status, host.runner.getHistory(status.instanceId)]),
        });
      }
      // The registration broker: a runner VM's and an agent VM's tokens (one for another audience,
      // refused; one asking again, refused) with their attested documents, the JIT config and the
      // Azure DevOps registration secret they are given, which may appear in those two answers and
      // nowhere else.
      const world = result.cloud.world;
      const askBroker = async (scaleSet: string) => {
        const vm = [...world.findScaleSet(scaleSet)!.instances.values()][0]!;
        const registerVm = async (resource: string) => {
          const url = `${result.cloud.imdsTokenUrl(vm.name)}?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`;
          const token = (
            (await (await fetch(url, { headers: { Metadata: 'true' } })).json()) as { access_token: string }
          ).access_token;
          const attested = `${result.cloud.imdsAttestedUrl(vm.name)}?api-version=2018-10-01&nonce=0123456789`;
          const attestedDocument = (
            (await (await fetch(attested, { headers: { Metadata: 'true' } })).json()) as { signature: string }
          ).signature;
          return host.invokeHttp({
            method: 'POST',
            path: '/api/registrations',
            body: JSON.stringify({ instance: vm.computerName, attestedDocument }),
            headers: { authorization: `Bearer ${token}` },
          });
        };
        expect((await registerVm('https://management.azure.com/')).status).toBe(401);
        // The VM was just provisioned and has not registered yet.
        const runner = world.findRunnerByName(vm.computerName);
        if (runner) world.runners.delete(runner.id);
        const agent = world.findAgentByName(vm.computerName);
        if (agent) world.agents.delete(agent.id);
        vm.provisionedAt = world.clock.nowMs();
        const given = await registerVm(REGISTRATION_AUDIENCE);
        expect(given.status, given.body).toBe(200);
        expect((await registerVm(REGISTRATION_AUDIENCE)).status).toBe(409);
        return JSON.parse(given.body) as { encoded_jit_config?: string; token?: string };
      };
      const jitConfig = (await askBroker('vmss-gh-neu')).encoded_jit_config!;
      const adoSecret = (await askBroker('vmss-ado')).token!;
      // The agent's secret is kiln's own Azure DevOps credential: the PAT, or an Entra token for it.
      if (label.includes('Entra')) expect(adoSecret).not.toBe(ADO_PAT);
      else expect(adoSecret).toBe(ADO_PAT);
      texts = texts.filter((t) => !t.where.startsWith('HTTP POST /api/registrations → 200'));

      texts.push({ where: 'log', text: logs.join('\n') }, { where: 'report', text: JSON.stringify(report) });

      const sentinels: [string, string][] = [
        ...Object.entries(STATIC_SENTINELS),
        ['JIT config', jitConfig],
        ['Azure DevOps registration secret', adoSecret],
        ...issued.map((t, i) => [`issued token #${i + 1} (${t.slice(0, 4)}…)`, t] as [string, string]),
      ];
      const hits = search(sentinels, texts);
      const bytes = texts.reduce((n, t) => n + t.text.length, 0);
      summary.push(
        `  ${label}: ${sentinels.length} sentinels (${issued.length} issued tokens) searched in ${texts.length} texts (${(bytes / 1e6).toFixed(1)} MB: ${logs.length} log lines, histories, report, HTTP answers): ${hits.length} hits`,
      );
      // The app's own lines (orchestrations, activities, trigger adapters) are in the log.
      expect(logs.filter((l) => /^ {2}\[\w+\] /.test(l)).length).toBeGreaterThan(10);
      expect(issued.length).toBeGreaterThan(0);
      expect(hits).toEqual([]);
    } finally {
      await result.close();
      issued.length = 0;
    }
  });
});
