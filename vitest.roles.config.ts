import { defineConfig } from 'vitest/config';
import { rolesSuite } from './vitest.shared.js';

// `npm run test:roles`: the least-privilege matrix, too slow for `npm test` (vitest.shared.ts).
export default defineConfig(rolesSuite);
