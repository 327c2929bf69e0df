import { availableParallelism } from 'node:os';
import { configDefaults, type ViteUserConfig } from 'vitest/config';
import { ensureFakeCa } from './src/local/tls/fake-ca.js';

// The fake cloud serves HTTPS with a local CA; Node reads NODE_EXTRA_CA_CERTS only at start-up, so
// it is set here, before the test workers (child processes) start, exactly as a user trusts a
// private CA for GitHub Enterprise Server.
process.env.NODE_EXTRA_CA_CERTS = ensureFakeCa().certPath;

/**
 * The evidence and end-to-end suites (`npm run test:evidence`): the fault and bad-input matrices,
 * adversity and found worlds, reproducible simulations, secret leaks, the clients' real timeouts
 * and identity outages waited out in real time, the CLI as a user runs it (child processes) and the
 * dashboard in Chromium.
 */
export const EVIDENCE = [
  'test/evidence/**/*.test.ts',
  'test/dashboard/**/*.test.ts',
  'test/contracts/planted.test.ts',
  'test/fakes/reproducible.test.ts',
  'test/clients/identity-outage.test.ts',
  'test/cli/{explore,run-control,serve,simulate,simulate-roles}.test.ts',
];

/** Suites with entry points of their own: least privilege (vitest), images and infrastructure (bats, Pester, node:test). */
const ELSEWHERE = ['test/roles/**', 'test/scripts/**', 'test/infra/**'];

// vitest runs one file at a time on a 2-core machine by default (cores - 1 workers); the tests
// spend much of their time waiting on loopback servers, so every core gets a worker.
const cores = availableParallelism();

const common = {
  pool: 'forks',
  maxWorkers: cores,
  minWorkers: 1,
  testTimeout: 60_000,
  hookTimeout: 60_000,
  setupFiles: ['test/setup/restore-env.ts'],
} as const;

/**
 * `npm test`: every other test, the inner loop (unit tests, the fakes and clients, every flow
 * through the real orchestrators). A new test file lands here unless it is listed above.
 */
export const fastSuite: ViteUserConfig = {
  test: {
    ...common,
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...EVIDENCE, ...ELSEWHERE],
  },
};

/**
 * Evidence cells wait out real timeouts and Retry-After: twice the workers keeps the cores busy
 * meanwhile. Many run whole simulations in CLI subprocesses beside the other lane's tools, so a
 * test's time limit is a guard against a hang, not a measure (that is `npm run bench`'s): 3 minutes.
 */
export const evidenceSuite: ViteUserConfig = {
  test: { ...common, include: EVIDENCE, maxWorkers: 2 * cores, testTimeout: 180_000 },
};

/** The least-privilege matrix: one simulation per role assignment of the Bicep. */
export const rolesSuite: ViteUserConfig = {
  test: { ...common, include: ['test/roles/**/*.test.ts'], testTimeout: 1_800_000, hookTimeout: 300_000 },
};
