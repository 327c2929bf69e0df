/**
 * The app's one registration module: the Functions host loads the bundle built from this file and
 * every function is registered here, nowhere else.
 */
import { registerApproval } from './approval.js';
import { registerAutoscale } from './autoscale.js';
import { registerCleanup } from './cleanup.js';
import { registerDashboard } from './dashboard.js';
import { registerDemandActivities } from './demand.js';
import { registerFleet } from './fleet.js';
import { registerGitHubWebhooks } from './github-webhooks.js';
import { registerImages } from './images.js';
import { registerMetrics } from './metrics.js';
import { registerRebuild } from './rebuild.js';
import { registerRegistrations } from './registrations.js';
import { registerRollout } from './rollout.js';
import { registerRuns } from './runs.js';

registerCleanup();
registerRollout();
registerRebuild();
registerApproval();
registerFleet();
registerImages();
registerRuns();
registerDashboard();
registerRegistrations();
registerMetrics();
registerAutoscale();
registerDemandActivities();
registerGitHubWebhooks();
