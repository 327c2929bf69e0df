import { afterAll, describe, expect, it } from 'vitest';
import { cellsOf, printMatrix, runCell, SCALED_TIMEOUTS, type CellResult } from './fault-matrix.js';

// Fault-injection matrix, rollout-linux flow (see fault-matrix.ts for what each cell checks).
const cells: CellResult[] = [];
afterAll(() => {
  console.error(printMatrix('fault matrix, rollout-linux', cells));
});

describe('fault matrix: rollout-linux', () => {
  it.each(cellsOf('rollout-linux'))('%s, %s', async (operation, kind) => {
    const cell = await runCell(
      'rollout-linux',
      operation,
      kind,
      kind === 'hang' ? { settings: SCALED_TIMEOUTS } : {},
    );
    cells.push(cell);
    expect(cell.problems).toEqual([]);
  });
});
