/**
 * Every test leaves the environment as it found it: a variable a test sets or removes is put back
 * after it, so no test depends on what another one changed (a file's own beforeAll settings are
 * part of what each of its tests finds, and are put back when the file ends).
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

let beforeFile: NodeJS.ProcessEnv = {};
let beforeTest: NodeJS.ProcessEnv = {};

function restore(snapshot: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(process.env)) if (!(name in snapshot)) delete process.env[name];
  Object.assign(process.env, snapshot);
}

beforeAll(() => {
  beforeFile = { ...process.env };
});
beforeEach(() => {
  beforeTest = { ...process.env };
});
afterEach(() => restore(beforeTest));
afterAll(() => restore(beforeFile));
