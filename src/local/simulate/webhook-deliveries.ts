/**
 * GitHub's workflow_job webhooks in the simulator (issue 19): each time a workload GitHub job of the
 * fake world changes at GitHub (queued at its arrival, in_progress when a runner takes it, completed
 * when it ends: world-jobs.ts's onJobChange), GitHub sends one delivery to the app's POST
 * /api/github/webhooks, signed as GitHub signs it (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
 * the raw body>`, with the secret the fake vault holds), with `X-GitHub-Event: workflow_job` and a
 * fresh `X-GitHub-Delivery`, its body in the shape of GitHub's webhook schema (github-jobs.ts).
 *
 * Webhooks get lost: with `lose` (scenario `workload.webhooks.lose`) that share of deliveries never
 * arrives, drawn from the scenario's seed (one draw per change, in the world's order, so a scenario
 * loses the same deliveries every run). The body is taken when the job changes; the delivery is sent
 * as world work, while the virtual clock stands still, as the registration broker's VMs ask.
 */
import { createHmac } from 'node:crypto';
import type { FakeCloud } from '../fake-cloud/index.js';
import { isGitHubJob, workflowJobDelivery } from '../fake-cloud/github-jobs.js';
import { randomUuid } from '../random.js';

export const WEBHOOK_PATH = '/api/github/webhooks';

export interface WebhookDeliveryCounts {
  /** Deliveries sent (lost ones not included). */
  sent: number;
  /** Deliveries lost on the way. */
  lost: number;
  /** Sent deliveries by the app's answer status, e.g. `{ "202": 40 }`. */
  answered: Record<string, number>;
}

export interface WebhookDeliveryOptions {
  cloud: FakeCloud;
  /** Share of deliveries lost, 0..1 (default 0). */
  lose?: number;
  /** Sends one delivery to the app (the simulator: host.invokeHttp) and answers its status. */
  deliver: (path: string, headers: Record<string, string>, body: string) => Promise<{ status: number }>;
  /** Queues async work to run while the clock stands still (the simulator: host.runner.enqueueWorldWork). */
  enqueue: (work: () => Promise<void>) => void;
  /** Told of each delivery the app did not accept (status ≥ 300). */
  event?: (flow: string, message: string) => void;
}

/** Starts sending the world's workload GitHub jobs' changes as signed workflow_job deliveries. */
export function startWebhookDeliveries(o: WebhookDeliveryOptions): WebhookDeliveryCounts {
  const { world } = o.cloud;
  const random = world.randomStream('webhooks');
  const lose = o.lose ?? 0;
  const counts: WebhookDeliveryCounts = { sent: 0, lost: 0, answered: {} };
  world.onJobChange = (job, status) => {
    if (!isGitHubJob(job)) return;
    // One draw per change whatever `lose` is: the same scenario loses the same deliveries.
    const lost = random() < lose;
    const id = randomUuid(random);
    if (lost) {
      counts.lost++;
      return;
    }
    const body = JSON.stringify(
      workflowJobDelivery(job, {
        api: o.cloud.urls.github,
        owner: world.names.githubOwner,
        installationId: world.names.githubInstallationId,
        status,
      }),
    );
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/kiln-simulator',
      'x-github-event': 'workflow_job',
      'x-github-delivery': id,
      'x-github-hook-installation-target-type': 'integration',
      'x-hub-signature-256': signature(o.cloud.githubWebhookSecret(), body),
    };
    counts.sent++;
    o.enqueue(async () => {
      const { status: answer } = await o.deliver(WEBHOOK_PATH, headers, body);
      counts.answered[answer] = (counts.answered[answer] ?? 0) + 1;
      if (answer >= 300)
        o.event?.('github', `workflow_job ${status} delivery of job ${job.github.id} answered ${answer}`);
    });
  };
  return counts;
}

/** GitHub's X-Hub-Signature-256 of a body. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
