import { describe, expect, it } from 'vitest';
import {
  adoAgentCompliance,
  githubRunnerCompliance,
  runnerDaysLeft,
  runnerUpdateDeadline,
  worstCompliance,
} from '../../../src/domain/runner-compliance.js';

const RELEASED = '2026-11-21T02:55:00.000Z';
const latest = { version: '2.330.0', publishedAt: RELEASED };

describe('runnerUpdateDeadline and runnerDaysLeft', () => {
  it('is 30 days after the release; whole days left, rounded down, negative past it', () => {
    expect(runnerUpdateDeadline(RELEASED)).toBe('2026-12-21T02:55:00.000Z');
    expect(runnerDaysLeft(RELEASED, '2026-11-21T02:55:00.000Z')).toBe(30);
    expect(runnerDaysLeft(RELEASED, '2026-12-01T02:55:00.000Z')).toBe(20);
    expect(runnerDaysLeft(RELEASED, '2026-12-01T03:00:00.000Z')).toBe(19);
    expect(runnerDaysLeft(RELEASED, '2026-12-21T02:54:59.000Z')).toBe(0);
    expect(runnerDaysLeft(RELEASED, '2026-12-21T02:55:00.000Z')).toBe(0);
    expect(runnerDaysLeft(RELEASED, '2026-12-23T03:00:00.000Z')).toBe(-3);
  });
});

describe('githubRunnerCompliance', () => {
  it('is current on the latest release (or a newer one)', () => {
    for (const installedTag of ['2.330.0', '2.331.0'])
      expect(githubRunnerCompliance({ installedTag, latest, now: '2026-12-01T03:00:00Z' })).toMatchObject({
        state: 'current',
        installed: installedTag,
        latest: '2.330.0',
      });
  });

  it('counts the days left for an older runner until 30 days after the latest release', () => {
    expect(githubRunnerCompliance({ installedTag: '2.329.0', latest, now: '2026-12-01T03:00:00Z' })).toEqual({
      state: 'updateDue',
      installed: '2.329.0',
      latest: '2.330.0',
      deadline: '2026-12-21T02:55:00.000Z',
      daysLeft: 19,
      reason: expect.stringMatching(/^older than 2\.330\.0: GitHub stops sending it jobs 30 days after/),
    });
  });

  it('says GitHub refuses an older runner once the 30 days are over', () => {
    expect(
      githubRunnerCompliance({ installedTag: '2.329.0', latest, now: '2026-12-21T02:55:00Z' }),
    ).toMatchObject({ state: 'refused', daysLeft: 0, deadline: '2026-12-21T02:55:00.000Z' });
    expect(
      githubRunnerCompliance({ installedTag: '2.329.0', latest, now: '2026-12-25T03:00:00Z' }),
    ).toMatchObject({ state: 'refused', daysLeft: -5 });
  });

  it('is behind without a deadline when the release date is not known', () => {
    const result = githubRunnerCompliance({
      installedTag: '2.329.0',
      latest: { version: '2.330.0' },
      now: '2026-12-01T03:00:00Z',
    });
    expect(result).toMatchObject({ state: 'updateDue', installed: '2.329.0', latest: '2.330.0' });
    expect(result.deadline).toBeUndefined();
    expect(result.daysLeft).toBeUndefined();
  });

  it('is unknown, and says why, when kiln cannot know the installed or the latest runner', () => {
    const now = '2026-12-01T03:00:00Z';
    expect(githubRunnerCompliance({ installedTag: undefined, latest, now })).toEqual({
      state: 'unknown',
      reason: 'the image version has no kiln-runner-version tag',
    });
    expect(githubRunnerCompliance({ installedTag: 'template-default', latest, now })).toEqual({
      state: 'unknown',
      reason: "built with the template's default runner, whose version kiln does not record",
    });
    expect(githubRunnerCompliance({ installedTag: '2.329.0', latest: undefined, now })).toEqual({
      state: 'unknown',
      installed: '2.329.0',
      reason: 'the latest runner release is not known',
    });
  });
});

describe('adoAgentCompliance', () => {
  it('compares the agent baked in with AGENT_VERSION', () => {
    expect(adoAgentCompliance({ installedTag: '4.269.0', configured: '4.269.0' })).toEqual({
      state: 'configured',
      installed: '4.269.0',
      configured: '4.269.0',
      reason: 'as configured',
    });
    expect(adoAgentCompliance({ installedTag: '3.236.0', configured: '4.269.0' })).toEqual({
      state: 'notConfigured',
      installed: '3.236.0',
      configured: '4.269.0',
      reason: 'AGENT_VERSION is 4.269.0',
    });
  });

  it("is unknown without AGENT_VERSION (the template's default is not known here) or without a recorded version", () => {
    expect(adoAgentCompliance({ installedTag: '4.269.0', configured: '' })).toMatchObject({
      state: 'unknown',
      installed: '4.269.0',
    });
    expect(adoAgentCompliance({ installedTag: 'template-default', configured: '4.269.0' })).toMatchObject({
      state: 'unknown',
      reason: expect.stringMatching(/template's default agent/),
    });
    expect(adoAgentCompliance({ installedTag: undefined, configured: '4.269.0' })).toEqual({
      state: 'unknown',
      reason: 'the image version has no kiln-agent-version tag',
    });
  });
});

describe('worstCompliance', () => {
  it('puts refused first, then what is due or not configured, then unknown, then what is fine', () => {
    expect(worstCompliance(['current', 'refused', 'updateDue'])).toBe('refused');
    expect(worstCompliance(['current', 'unknown', 'updateDue'])).toBe('updateDue');
    expect(worstCompliance(['configured', 'unknown'])).toBe('unknown');
    expect(worstCompliance(['configured'])).toBe('configured');
    expect(worstCompliance([])).toBeUndefined();
  });
});
