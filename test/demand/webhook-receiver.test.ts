/**
 * The webhook receiver's own rules (src/demand/webhook-receiver.ts) with a stub vault and table:
 * the secret read once and kept, read again once when a signature does not verify (a rotation), not
 * more than once a minute however many forgeries come; a vault that cannot be read is 503; a table
 * that fails is 503 (transient) so GitHub's delivery shows failed; no answer or log line carries the
 * secret or the signature.
 */
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/clients/errors.js';
import type { JobDemandStore } from '../../src/demand/job-demand-table.js';
import type { WorkflowJob } from '../../src/demand/types.js';
import { createWebhookReceiver } from '../../src/demand/webhook-receiver.js';
import { signature } from '../../src/local/simulate/webhook-deliveries.js';

const body = JSON.stringify({
  action: 'queued',
  workflow_job: {
    id: 1,
    run_id: 2,
    status: 'queued',
    labels: ['self-hosted'],
    created_at: '2026-12-01T03:00:00Z',
    runner_name: null,
  },
  repository: { full_name: 'acme/app' },
});

function setup(options: { failRecord?: boolean } = {}) {
  let secret = 'first-secret-value';
  let reads = 0;
  let vaultDown = false;
  let nowMs = Date.parse('2026-12-01T03:00:00Z');
  const recorded: WorkflowJob[] = [];
  const store = {
    record: async (job: WorkflowJob) => {
      if (options.failRecord) throw new TransientError('table kilnjobdemand read failed (HTTP 503)');
      recorded.push(job);
      return 'recorded' as const;
    },
  } as unknown as JobDemandStore;
  const receive = createWebhookReceiver({
    secrets: {
      getSecret: async () => {
        reads++;
        if (vaultDown) throw new TransientError('keyvault getSecret failed (HTTP 503)');
        return secret;
      },
    },
    secretName: 'github-webhook-secret',
    store,
    now: () => new Date(nowMs),
  });
  const deliver = (signedWith: string, event = 'workflow_job') =>
    receive({
      body,
      header: (name) =>
        ({
          'x-github-event': event,
          'x-github-delivery': 'd-1',
          'x-hub-signature-256': signature(signedWith, body),
        })[name],
    });
  return {
    deliver,
    recorded,
    reads: () => reads,
    rotate: (value: string) => (secret = value),
    vaultDown: (down: boolean) => (vaultDown = down),
    advance: (ms: number) => (nowMs += ms),
  };
}

describe('the webhook receiver', () => {
  it('reads the secret once and keeps it for a few minutes', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) expect((await s.deliver('first-secret-value')).status).toBe(202);
    expect(s.reads()).toBe(1);
    expect(s.recorded).toHaveLength(5);
    s.advance(6 * 60_000);
    await s.deliver('first-secret-value');
    expect(s.reads()).toBe(2);
  });

  it('a rotated secret: the first mismatch reads it again and the delivery verifies', async () => {
    const s = setup();
    await s.deliver('first-secret-value');
    s.rotate('second-secret-value');
    expect((await s.deliver('second-secret-value')).status).toBe(202);
    expect(s.reads()).toBe(2);
  });

  it('forgeries read the vault at most once a minute, and record nothing', async () => {
    const s = setup();
    await s.deliver('first-secret-value');
    const answers = [];
    for (let i = 0; i < 50; i++) answers.push(await s.deliver('forged'));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(s.reads()).toBe(2);
    expect(s.recorded).toHaveLength(1);
    // No answer or log line holds the secret or a signature.
    for (const a of answers) {
      expect(JSON.stringify(a)).not.toMatch(/first-secret-value|sha256=/);
    }
    s.advance(61_000);
    await s.deliver('forged');
    expect(s.reads()).toBe(3);
  });

  it('a vault that cannot be read: 503, nothing recorded; it is read again next time', async () => {
    const s = setup();
    s.vaultDown(true);
    const answer = await s.deliver('first-secret-value');
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/cannot read the webhook secret github-webhook-secret/);
    s.vaultDown(false);
    expect((await s.deliver('first-secret-value')).status).toBe(202);
    expect(s.recorded).toHaveLength(1);
  });

  it('a table that fails transiently: 503 naming the job, never the secret', async () => {
    const s = setup({ failRecord: true });
    const answer = await s.deliver('first-secret-value');
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/^workflow_job queued job 1 of acme\/app: not recorded: table/);
    expect(answer.log).not.toMatch(/first-secret-value|sha256=/);
  });
});
