import { describe, expect, it } from 'vitest';
import { FLOW_OPERATIONS, runCell, type FlowName } from './fault-matrix.js';

// The matrix covers every ARM, GitHub and Azure DevOps operation the flows send: each flow runs once
// without faults (it must converge like every cell), recording what the fakes were asked.
const FLOWS: FlowName[] = ['cleanup', 'rollout-linux', 'rollout-windows', 'rebuild'];
const used = new Map<FlowName, Set<string>>();

describe('fault matrix coverage', () => {
  it.each(FLOWS)('%s without faults: completes, keeps the invariants, converges', async (flow) => {
    const record = new Set<string>();
    const cell = await runCell(flow, undefined, undefined, { record });
    used.set(flow, record);
    expect(cell.problems).toEqual([]);
    expect(cell.outcome).toBe('completed');
    // Every operation listed for the flow is really sent by it (the list is not stale).
    for (const op of FLOW_OPERATIONS[flow].http) expect(record, `${flow} ${op}`).toContain(op);
    for (const op of FLOW_OPERATIONS[flow].lro) expect(record, `${flow} ${op}`).toContain(`lro ${op}`);
  });

  it('every ARM, GitHub and Azure DevOps operation any flow sends has cells', () => {
    const listed = new Set(Object.values(FLOW_OPERATIONS).flatMap((f) => f.http));
    const listedLro = new Set(Object.values(FLOW_OPERATIONS).flatMap((f) => f.lro));
    const missing: string[] = [];
    for (const [flow, ops] of used) {
      for (const op of ops) {
        const lro = op.startsWith('lro ');
        const name = lro ? op.slice(4) : op;
        if (!/^(arm|github|ado):/.test(name)) continue;
        if (lro ? !listedLro.has(name) : !listed.has(name)) missing.push(`${flow}: ${op}`);
      }
    }
    expect(used.size).toBe(FLOWS.length);
    expect(missing).toEqual([]);
  });
});
