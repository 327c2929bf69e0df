/**
 * Every route the fake GitHub and Azure DevOps serve answers within the official description, the
 * error answers included, whether or not kiln's flows reach it in the shipped scenarios.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolation } from '../../src/local/contracts/index.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

const PAT = 'ghp_contracttestcontracttestcontract00';
const ADO_PAT = 'adocontracttestpat';
const appKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud(makeScenario({ ghosts: { github: 1, ado: 1 }, foreign: { github: 1, ado: 1 } }), {
    roles: 'all',
    secrets: { githubPat: PAT, adoPat: ADO_PAT, githubAppKey: appKey },
  });
});
afterAll(() => t.close());

function appJwt(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 500, iss: Number(t.cloud.env.GITHUB_APP_ID) })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(appKey, 'base64url')}`;
}

async function call(
  base: string,
  method: string,
  path: string,
  authorization: string,
  body?: unknown,
): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

const violations = () => [...new Set(t.cloud.contractViolations.map(formatViolation))];

describe('the fakes answer within the official descriptions', () => {
  it('GitHub: every route, App JWT and token, successes and refusals', async () => {
    const gh = t.cloud.urls.github;
    const org = t.cloud.env.GITHUB_OWNER!;
    const repo = t.cloud.env.GITHUB_REPO!;
    const token = `token ${PAT}`;
    const jwt = `Bearer ${appJwt()}`;
    const runner = [...t.cloud.world.runners.values()].find((r) => !r.busy)!.id;
    const statuses = [
      await call(gh, 'GET', `/orgs/${org}/installation`, jwt),
      await call(gh, 'GET', `/repos/${org}/${repo}/installation`, jwt),
      await call(gh, 'GET', `/orgs/nobody/installation`, jwt),
      await call(gh, 'GET', '/app', jwt),
      await call(gh, 'GET', '/rate_limit', token),
      await call(gh, 'GET', '/repos/actions/runner/releases/latest', token),
      await call(gh, 'GET', `/orgs/${org}/actions/runner-groups`, token),
      await call(gh, 'GET', `/orgs/${org}/actions/runners?per_page=2`, token),
      await call(gh, 'GET', `/repos/${org}/${repo}/actions/runners`, token),
      await call(gh, 'POST', `/orgs/${org}/actions/runners/registration-token`, token),
      await call(gh, 'POST', `/orgs/${org}/actions/runners/generate-jitconfig`, token, {
        name: 'jit-1',
        runner_group_id: 1,
        labels: ['self-hosted'],
      }),
      await call(gh, 'POST', `/orgs/${org}/actions/runners/generate-jitconfig`, token, {
        name: 'jit-1',
        runner_group_id: 1,
        labels: ['self-hosted'],
      }),
      await call(gh, 'GET', `/orgs/${org}/actions/runners/${runner}`, token),
      await call(gh, 'DELETE', `/orgs/${org}/actions/runners/${runner}`, token),
      await call(gh, 'GET', `/orgs/${org}/actions/runners/999999`, token),
      await call(gh, 'DELETE', `/orgs/${org}/actions/runners/999999`, token),
      await call(gh, 'GET', `/orgs/${org}/actions/runners`, 'token wrong'),
    ];
    // The refusals are what GitHub answers: 404 unknown org/runner, 409 duplicate name, 401 bad token.
    expect(statuses).toEqual([
      200, 200, 404, 200, 200, 200, 200, 200, 200, 201, 201, 409, 200, 204, 404, 404, 401,
    ]);
    expect(violations()).toEqual([]);
  });

  it('Azure DevOps: every route, successes and refusals', async () => {
    const ado = t.cloud.urls.ado;
    const basic = `Basic ${Buffer.from(`:${ADO_PAT}`).toString('base64')}`;
    const v = '?api-version=7.1';
    const pool = `/_apis/distributedtask/pools`;
    const poolId = (await (
      await fetch(`${ado}${pool}${v}`, { headers: { authorization: basic } })
    ).json()) as {
      value: { id: number }[];
    };
    const id = poolId.value[0]!.id;
    const agent = [...t.cloud.world.agents.values()][0]!.id;
    const statuses = [
      await call(ado, 'GET', `${pool}${v}&poolName=${t.cloud.env.ADO_POOL}`, basic),
      await call(ado, 'GET', `${pool}/${id}${v}`, basic),
      await call(
        ado,
        'GET',
        `${pool}/${id}/agents${v}&includeAssignedRequest=true&includeLastCompletedRequest=true`,
        basic,
      ),
      await call(ado, 'GET', `${pool}/${id}/agents/${agent}${v}&includeAssignedRequest=true`, basic),
      await call(ado, 'PATCH', `${pool}/${id}/agents/${agent}${v}`, basic, { id: agent, enabled: false }),
      await call(ado, 'DELETE', `${pool}/${id}/agents/${agent}${v}`, basic),
      await call(ado, 'GET', `${pool}/${id}/agents/${agent}${v}`, basic),
      await call(ado, 'GET', `${pool}/999${v}`, basic),
      await call(ado, 'GET', `${pool}/${id}/jobrequests${v}&completedRequestCount=0`, basic),
      await call(ado, 'GET', `${pool}/${id}/jobrequests${v}&$top=5`, basic),
      await call(ado, 'GET', `${pool}/${id}/jobrequests${v}`, basic),
      await call(ado, 'GET', `${pool}/999/jobrequests${v}&completedRequestCount=0`, basic),
      await call(ado, 'GET', `${pool}/${id}/jobrequests${v}&completedRequestCount=none`, basic),
    ];
    expect(statuses).toEqual([200, 200, 200, 200, 200, 204, 404, 404, 200, 200, 200, 404, 400]);
    expect(violations()).toEqual([]);
  });
});
