import { afterAll, describe, expect, it } from 'vitest';
import { cellsOf, printMatrix, runCell, SCALED_TIMEOUTS, type CellResult } from './fault-matrix.js';

// Fault-injection matrix, cleanup flow (see fault-matrix.ts for what each cell checks).
const cells: CellResult[] = [];
afterAll(() => {
  console.error(printMatrix('fault matrix, cleanup', cells));
});

describe('fault matrix: cleanup', () => {
  it.each(cellsOf('cleanup'))('%s, %s', async (operation, kind) => {
    const cell = await runCell(
      'cleanup',
      operation,
      kind,
      kind === 'hang' ? { settings: SCALED_TIMEOUTS } : {},
    );
    cells.push(cell);
    expect(cell.problems).toEqual([]);
  });
});
