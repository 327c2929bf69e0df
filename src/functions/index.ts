/**
 * The app's one registration module: the Functions host loads the bundle built from this file and
 * every function is registered here, nowhere else.
 */
import { registerCleanup } from './cleanup.js';
import { registerRebuild } from './rebuild.js';
import { registerRollout } from './rollout.js';

registerCleanup();
registerRollout();
registerRebuild();
