import { readFileSync } from 'node:fs';
import { parseScenario } from './src/local/scenario/parse-scenario.js';
import { runSimulation } from './src/local/simulate/run-simulation.js';
import { storedOutput } from './src/orchestration-contracts.js';
const s = parseScenario(readFileSync(process.argv[2]!, 'utf8'), 'x.yaml');
const r = await runSimulation(s, { keepRunning: true, timers: process.argv[3] ? process.argv[3].split(',') : undefined });
for (const st of r.host.runner.listInstances()) {
  const o = storedOutput('rolloutScaleSetOrchestrator' as any, st);
  if (o) console.log(JSON.stringify(o));
}
await r.close();
