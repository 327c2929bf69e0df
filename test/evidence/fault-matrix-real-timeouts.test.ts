import { afterAll, describe, expect, it } from 'vitest';
import { printMatrix, runCell, type CellResult, type FlowName } from './fault-matrix.js';

// A request that never gets an answer, with the clients' real timeouts (ARM 60 s per operation,
// GitHub and Azure DevOps 30 s per request): one cell per service. The other hang cells of the
// matrix scale these deadlines down through settings (SCALED_TIMEOUTS).
const cells: CellResult[] = [];
afterAll(() => {
  console.error(printMatrix('fault matrix, hang with real client timeouts', cells));
});

describe('fault matrix: no answer, real client timeouts', () => {
  it.each([
    ['rollout-linux', 'arm:galleryImageVersions.get', 60],
    ['rollout-linux', 'github:listRunners', 30],
    ['rollout-windows', 'ado:listAgents', 30],
  ] as [FlowName, string, number][])(
    '%s, %s',
    async (flow, operation, timeoutSeconds) => {
      const cell = await runCell(flow, operation, 'hang');
      cells.push(cell);
      expect(cell.problems).toEqual([]);
      // The flow waited for the client's own deadline, and not much longer.
      expect(cell.wallMs).toBeGreaterThanOrEqual(timeoutSeconds * 1000);
      expect(cell.wallMs).toBeLessThan((timeoutSeconds + 30) * 1000);
    },
    180_000,
  );
});
