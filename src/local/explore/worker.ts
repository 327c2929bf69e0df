/**
 * An explore worker: a child process (forked by pool.ts with the tsx loader) that runs the tasks its
 * parent sends over IPC, one at a time — runSimulation changes process.env while it runs, so one
 * process can hold only one world. It runs a seed's world, or shrinks a finding, and answers with
 * the verdict. After a world that crashed the simulator it exits: whatever the crash left behind
 * (servers, timers) must not reach the next world, so the pool starts a fresh worker.
 */
import { worldOfSeed, type RawScenario } from './generate-world.js';
import {
  findingKinds,
  runWorld,
  shrinkWorld,
  verdictOf,
  type FindingKind,
  type ShrinkResult,
  type WorldVerdict,
} from './run-world.js';

export type WorkerTask =
  | { kind: 'world'; seed: number }
  | { kind: 'shrink'; seed: number; finding: FindingKind; timeLimitMs: number };

export type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'world'; seed: number; verdict: WorldVerdict; seconds: number }
  | { kind: 'smaller'; seed: number; finding: FindingKind; raw: RawScenario; verdict: WorldVerdict }
  | ({ kind: 'shrunk'; seed: number; finding: FindingKind } & ShrinkResult)
  | { kind: 'error'; message: string };

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function handle(task: WorkerTask): Promise<void> {
  if (task.kind === 'world') {
    const run = await runWorld(worldOfSeed(task.seed));
    await send({ kind: 'world', seed: task.seed, verdict: verdictOf(run), seconds: run.seconds });
    if (findingKinds(run).includes('crash')) process.exit(0);
    return;
  }
  const result = await shrinkWorld(task.seed, task.finding, {
    timeLimitMs: task.timeLimitMs,
    onSmaller: (raw, verdict) =>
      void send({ kind: 'smaller', seed: task.seed, finding: task.finding, raw, verdict }),
  });
  await send({ kind: 'shrunk', seed: task.seed, finding: task.finding, ...result });
}

if (!process.send) {
  process.stderr.write('the explore worker runs as a child process of kiln explore\n');
  process.exit(2);
}
let queue = Promise.resolve();
process.on('message', (task: WorkerTask) => {
  queue = queue.then(() =>
    handle(task).catch(async (error: unknown) => {
      await send({
        kind: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      process.exit(1);
    }),
  );
});
// The parent is gone (stopped, or crashed): nothing will read what this worker finds.
process.on('disconnect', () => process.exit(0));
// Ctrl+C reaches the whole process group: the parent decides what stops (it kills its workers).
process.on('SIGINT', () => undefined);
void send({ kind: 'ready' });
