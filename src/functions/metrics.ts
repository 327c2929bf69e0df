/**
 * kiln's metrics in the app: the activity that records how runs ended, and the last export when the
 * Functions host stops the worker (what was recorded since the last periodic export is not lost).
 */
import { app } from './azure-functions.js';
import { createRecordMetricsActivity } from '../activities/metrics.js';
import { Activities } from '../names.js';
import { registerActivity } from './register-activity.js';
import { shutdownRuntime } from './runtime.js';

export function registerMetrics(): void {
  registerActivity(Activities.recordMetrics, createRecordMetricsActivity);
  app.hook.appTerminate(() => shutdownRuntime());
}
