#!/usr/bin/env node
// The kiln command. Runs the TypeScript sources through tsx, so it works from a fresh clone
// (`npm ci && npx --no-install kiln …`) with no build step, and installed (`npm install -g <clone>`).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
