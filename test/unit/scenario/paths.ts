/** Where the scenario tests find their files: the example scenarios of the repository. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const repoRoot = resolve(here, '..', '..', '..');
export const exampleScenarios = resolve(repoRoot, 'scenarios');
