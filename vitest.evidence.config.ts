import { defineConfig } from 'vitest/config';
import { evidenceSuite } from './vitest.shared.js';

// `npm run test:evidence`: evidence matrices, the CLI end to end and the dashboard (vitest.shared.ts).
export default defineConfig(evidenceSuite);
