import { defineConfig } from 'vitest/config';

// The app's tests. The image and infrastructure suites run through their own entry points
// (npm run test:linux / test:windows / test:infra).
export default defineConfig({
  test: {
    include: ['test/{unit,orchestrations,fakes,clients,functions,cli}/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
