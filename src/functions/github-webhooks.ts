/**
 * POST /api/github/webhooks: GitHub's workflow_job webhooks (issue 19, job demand). Anonymous at the
 * host: GitHub cannot send a function key; each delivery is authenticated by its HMAC signature
 * instead (src/demand/webhook-receiver.ts). Adapter only: hand the raw body and headers over, answer,
 * log the outcome. Also registers the reconcile read of GitHub demand (activity readGitHubDemand).
 */
import { createReadGitHubDemandActivity } from '../activities/demand-github.js';
import { Activities } from '../names.js';
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import { registerActivity } from './register-activity.js';
import { getGitHubWebhookReceiver } from './runtime.js';

export function registerGitHubWebhooks(): void {
  registerActivity(Activities.readGitHubDemand, createReadGitHubDemandActivity);

  app.http('githubWebhooks', {
    route: 'github/webhooks',
    methods: ['POST'],
    authLevel: 'anonymous',
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
      return new HttpResponse({
        status: answer.status,
        jsonBody: answer.body,
        headers: { 'Cache-Control': 'no-store' },
      });
    },
  });
}
