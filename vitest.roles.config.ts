import { defineConfig } from 'vitest/config';
import { ensureFakeCa } from './src/local/tls/fake-ca.js';

// The least-privilege matrix (test/roles): one simulation per role assignment of the Bicep, too slow
// for `npm test`; `npm run test:roles` runs it, and `npm run test:all` with it. The fake cloud's CA
// is trusted as in vitest.config.ts.
process.env.NODE_EXTRA_CA_CERTS = ensureFakeCa().certPath;

export default defineConfig({
  test: {
    include: ['test/roles/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
  },
});
