import { describe, expect, it } from 'vitest';
import { Orchestrations } from '../../src/names.js';
import { storedOutput } from '../../src/orchestration-contracts.js';

describe('storedOutput: a finished run read as its orchestrator contract says', () => {
  const rollout = { state: 'succeeded', scaleSets: {} };

  it('answers the output of a run of the named orchestrator', () => {
    expect(storedOutput(Orchestrations.rollout, { name: Orchestrations.rollout, output: rollout })).toBe(
      rollout,
    );
    // A status without a name (as some stores answer) is taken at its word.
    expect(storedOutput(Orchestrations.rollout, { output: rollout })).toBe(rollout);
  });

  it('answers nothing for another orchestrator, no status, or no output yet', () => {
    expect(
      storedOutput(Orchestrations.rebuild, { name: Orchestrations.rollout, output: rollout }),
    ).toBeUndefined();
    expect(storedOutput(Orchestrations.rollout, undefined)).toBeUndefined();
    expect(
      storedOutput(Orchestrations.rollout, { name: Orchestrations.rollout, output: null }),
    ).toBeUndefined();
    expect(storedOutput(Orchestrations.rollout, { name: Orchestrations.rollout })).toBeUndefined();
  });
});
