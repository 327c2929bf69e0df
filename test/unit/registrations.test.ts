import { describe, expect, it } from 'vitest';
import {
  SNAPSHOT_MAX_AGE_MS,
  createRegistrationReader,
  stateByName,
} from '../../src/activities/registrations.js';
import type { AdoAgent, FullAdoClient, FullGitHubClient, GitHubRunner } from '../../src/clients/types.js';

// The reader's choice between a fleet list and per-name lookups, counted on in-memory services.

function runner(id: number, name: string, fields: Partial<GitHubRunner> = {}): GitHubRunner {
  return { id, name, status: 'online', busy: false, labels: [], ...fields };
}

function githubWith(runners: GitHubRunner[]) {
  const calls = { list: 0, lookups: 0 };
  let release: (() => void) | undefined;
  const client = {
    async listRunners() {
      calls.list++;
      if (release === undefined) return runners;
      await new Promise<void>((resolve) => (release = resolve));
      return runners;
    },
    async findRunnersByName(name: string) {
      calls.lookups++;
      return runners.filter((r) => r.name === name);
    },
  } as unknown as FullGitHubClient;
  /** Makes the next list wait until the returned function is called. */
  const holdNextList = () => {
    release = () => {};
    return () => release?.();
  };
  return { client, calls, holdNextList };
}

function clock(start = Date.parse('2026-12-01T03:00:00Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const fleet = (n: number) =>
  Array.from({ length: n }, (_, i) => runner(i + 1, `gh-${String(i).padStart(6, '0')}`));

describe('registration reader', () => {
  it('answers every look of one tick from one list', async () => {
    const github = githubWith(fleet(500));
    const time = clock();
    const reader = createRegistrationReader({ github: github.client, now: time.now });
    const names = fleet(20).map((r) => r.name);
    const first = await reader.stateOf('github', names);
    const second = await reader.stateOf('github', ['gh-000499', 'gh-000300']);
    expect(github.calls).toEqual({ list: 1, lookups: 0 });
    expect(Object.keys(first)).toHaveLength(20);
    expect(second['gh-000499']).toEqual({ status: 'online', busy: false, ids: [500] });

    time.advance(SNAPSHOT_MAX_AGE_MS + 1);
    await reader.stateOf('github', names);
    expect(github.calls.list).toBe(2);
  });

  it('shares a list still in flight with a look that arrives meanwhile', async () => {
    const github = githubWith(fleet(300));
    const reader = createRegistrationReader({ github: github.client, now: clock().now });
    const release = github.holdNextList();
    const names = fleet(10).map((r) => r.name);
    const first = reader.stateOf('github', names);
    const second = reader.stateOf('github', names.slice(0, 2));
    release();
    await Promise.all([first, second]);
    expect(github.calls).toEqual({ list: 1, lookups: 0 });
  });

  it('looks a few names up one by one in a large fleet, until they add up to a list', async () => {
    const github = githubWith(fleet(5000));
    const time = clock();
    const reader = createRegistrationReader({ github: github.client, now: time.now });
    // The first list tells the fleet's size: 50 pages.
    await reader.stateOf(
      'github',
      fleet(60).map((r) => r.name),
    );
    expect(github.calls).toEqual({ list: 1, lookups: 0 });

    // The next tick lists straight away: the last one asked for more than a list costs.
    time.advance(SNAPSHOT_MAX_AGE_MS + 1);
    await reader.stateOf('github', ['gh-000001']);
    expect(github.calls).toEqual({ list: 2, lookups: 0 });

    // A tick after a quiet one: three names are three lookups, not 50 pages.
    time.advance(SNAPSHOT_MAX_AGE_MS + 1);
    const few = await reader.stateOf('github', ['gh-000007', 'gh-000008', 'gh-004999']);
    expect(github.calls).toEqual({ list: 2, lookups: 3 });
    expect(few['gh-004999']?.ids).toEqual([5000]);

    // Within the same tick, 47 more names would cost as much as the list: list instead.
    await reader.stateOf(
      'github',
      fleet(47).map((r) => r.name),
    );
    expect(github.calls).toEqual({ list: 3, lookups: 3 });
  });

  it('always lists an Azure DevOps pool (one request)', async () => {
    let lists = 0;
    const agent = (id: number, name: string): AdoAgent => ({
      id,
      name,
      status: 'online',
      enabled: true,
      busy: id === 2,
      poolId: 1,
    });
    const ado = {
      async listAgents() {
        lists++;
        return [agent(1, 'ado-000000'), agent(2, 'ado-000001')];
      },
      async findAgentsByName() {
        throw new Error('not expected: one list is never dearer');
      },
    } as unknown as FullAdoClient;
    const reader = createRegistrationReader({ ado, now: clock().now });
    expect(await reader.stateOf('ado', ['ADO-000001'])).toEqual({
      'ado-000001': { status: 'online', busy: true, ids: [2] },
    });
    expect(lists).toBe(1);
  });

  it('fails clearly for a fleet that is not configured', async () => {
    const reader = createRegistrationReader({ now: clock().now });
    await expect(
      reader.stateOf('github', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']),
    ).rejects.toThrow('no GitHub fleet is configured');
    await expect(reader.stateOf('ado', ['a'])).rejects.toThrow('no Azure DevOps fleet is configured');
  });
});

describe('stateByName', () => {
  it('merges registrations that share a name: online and busy win, every id is kept', () => {
    const state = stateByName(
      [
        runner(1, 'GH-000001', { status: 'offline' }),
        runner(2, 'gh-000001', { busy: true }),
        runner(3, 'gh-000002', { status: 'offline' }),
        runner(4, 'other'),
      ],
      ['gh-000001', 'gh-000002', 'gh-000003'],
    );
    expect(state).toEqual({
      'gh-000001': { status: 'online', busy: true, ids: [1, 2] },
      'gh-000002': { status: 'offline', busy: false, ids: [3] },
    });
  });
});
