/** Where the scenario tests find their files: the fixtures here and the shared examples beside the clone. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const repoRoot = resolve(here, '..', '..', '..');
/** CI lays shared/ beside the clone, as in the working tree. */
export const sharedScenarios = resolve(repoRoot, '..', 'shared', 'scenarios');
export const fixtures = resolve(here, 'fixtures');
