import { defineConfig } from 'vitest/config';
import { fastSuite } from './vitest.shared.js';

// `npm test`: unit and flow tests, the inner loop (the suites: vitest.shared.ts).
export default defineConfig(fastSuite);
