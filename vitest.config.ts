import { defineConfig } from 'vitest/config';
import { ensureFakeCa } from './src/local/tls/fake-ca.js';

// The fake cloud serves HTTPS with a local CA; Node reads NODE_EXTRA_CA_CERTS only at start-up, so
// it is set here, before the test workers (child processes) start, exactly as a user trusts a
// private CA for GitHub Enterprise Server.
process.env.NODE_EXTRA_CA_CERTS = ensureFakeCa().certPath;

// The app's tests. The image and infrastructure suites run through their own entry points
// (npm run test:linux / test:windows / test:infra).
export default defineConfig({
  test: {
    include: [
      'test/{unit,rbac,contracts,orchestrations,fakes,clients,activities,functions,cli,evidence,dashboard}/**/*.test.ts',
    ],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
