/**
 * POST /api/github/webhooks: GitHub's workflow_job webhooks (issue 19, job demand). Anonymous at the
 * host: GitHub cannot send a function key; each delivery is authenticated by its HMAC signature
 * instead (src/demand/webhook-receiver.ts). Adapter only: hand the raw body and headers over, answer,
 * log the outcome, and start the autoscaler's look when a job became queued. Also registers the
 * reconcile read of GitHub demand (activity readGitHubDemand).
 */
import * as df from 'durable-functions';
import { createReadGitHubDemandActivity } from '../activities/demand-github.js';
import { Activities } from '../names.js';
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import { registerActivity } from './register-activity.js';
import { startAutoscale } from './autoscale.js';
import { getGitHubWebhookReceiver, getSettings } from './runtime.js';

export function registerGitHubWebhooks(): void {
  registerActivity(Activities.readGitHubDemand, createReadGitHubDemandActivity);

  app.http('githubWebhooks', {
    route: 'github/webhooks',
    methods: ['POST'],
    authLevel: 'anonymous',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const receive = getGitHubWebhookReceiver();
      const answer = receive
        ? await receive({ body: await request.text(), header: (name) => request.headers.get(name) })
        : {
            status: 404,
            body: { error: 'kiln manages no GitHub fleet here (GITHUB_OWNER is empty)' },
            log: 'github webhook refused: no GitHub fleet',
            level: 'warn' as const,
          };
      if (answer.level === 'info') context.log(answer.log);
      else context.warn(answer.log);
      // A job waits now: the autoscaler looks at once (unless a look is running) instead of at its
      // next minute, so a new machine starts that much sooner. Its failure costs only that minute.
      if (answer.newlyQueued)
        await startAutoscale(df.getClient(context), getSettings().dryRun, {
          by: 'http',
          client: 'github workflow_job webhook',
        }).catch((error: unknown) =>
          context.warn(`autoscaler not started by the webhook: ${(error as Error).message}`),
        );
      return new HttpResponse({
        status: answer.status,
        jsonBody: answer.body,
        headers: { 'Cache-Control': 'no-store' },
      });
    },
  });
}
