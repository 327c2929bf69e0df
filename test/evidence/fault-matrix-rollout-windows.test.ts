import { afterAll, describe, expect, it } from 'vitest';
import { cellsOf, printMatrix, runCell, SCALED_TIMEOUTS, type CellResult } from './fault-matrix.js';

// Fault-injection matrix, rollout-windows flow (see fault-matrix.ts for what each cell checks).
const cells: CellResult[] = [];
afterAll(() => {
  console.error(printMatrix('fault matrix, rollout-windows', cells));
});

describe('fault matrix: rollout-windows', () => {
  it.each(cellsOf('rollout-windows'))('%s, %s', async (operation, kind) => {
    const cell = await runCell(
      'rollout-windows',
      operation,
      kind,
      kind === 'hang' ? { settings: SCALED_TIMEOUTS } : {},
    );
    cells.push(cell);
    expect(cell.problems).toEqual([]);
  });
});
