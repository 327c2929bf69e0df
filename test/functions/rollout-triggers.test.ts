import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalAppHost } from '../../src/local/host/app-host.js';
import { resetRuntime } from '../../src/functions/runtime.js';
import { InstanceIds, Orchestrations } from '../../src/names.js';
import { mayRollAgain } from '../../src/functions/rollout.js';
import type { DurableOrchestrationStatus } from 'durable-functions';

// POST /api/rollouts and the Event Grid trigger through the local host: validation and S5. The
// orchestrations are started but not run here (the simulations run them end to end).
const SUB = '00000000-0000-4000-8000-000000000001';
let host: LocalAppHost;

beforeAll(async () => {
  Object.assign(process.env, {
    AZURE_SUBSCRIPTION_ID: SUB,
    KEYVAULT_URL: 'https://127.0.0.1:1',
    GITHUB_OWNER: 'acme',
    GITHUB_AUTH: 'pat',
    GALLERY_RESOURCE_GROUP: 'rg-kiln-images',
    GALLERY_NAME: 'galKiln',
  });
  resetRuntime();
  host = await LocalAppHost.start({ clock: new VirtualClock('2026-12-01T03:00:00Z') });
});
afterAll(() => host.close());

const post = (body: unknown) =>
  host.invokeHttp({
    method: 'POST',
    path: '/api/rollouts',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'x-functions-key': host.functionKey },
  });
const rollouts = () => host.runner.listInstances().filter((i) => i.name === Orchestrations.rollout);
const versionId = (version: string, gallery = 'galKiln', definition = 'linux-agent') =>
  `/subscriptions/${SUB}/resourceGroups/rg-kiln-images/providers/Microsoft.Compute/galleries/${gallery}/images/${definition}/versions/${version}`;
const event = (subject: string, eventType = 'Microsoft.Resources.ResourceWriteSuccess') => ({
  id: `${subject}#${Math.random()}`,
  subject,
  eventType,
  eventTime: '2026-12-01T03:00:00Z',
  data: {
    resourceUri: subject,
    operationName: 'Microsoft.Compute/galleries/images/versions/write',
    status: 'Succeeded',
  },
  dataVersion: '2',
  metadataVersion: '1',
});

describe('POST /api/rollouts', () => {
  it.each([
    ['a missing version', { image: 'linux' }, /field "version": Required/],
    [
      'a malformed version',
      { image: 'linux', version: '2026.12' },
      /field "version": must be a gallery version name/,
    ],
    ['an unknown image', { image: 'macos', version: '2026.12.1' }, /field "image": unknown image "macos"/],
    [
      'a wrong type',
      { image: 'linux', version: '2026.12.1', batchPercent: 'half' },
      /field "batchPercent": Expected number/,
    ],
    [
      'an out-of-range option',
      { image: 'linux', version: '2026.12.1', batchPercent: 0 },
      /field "batchPercent"/,
    ],
    ['an unknown field', { image: 'linux', version: '2026.12.1', force: true }, /unknown field "force"/],
    ['malformed JSON', '{"image":', /not valid JSON/],
  ])('answers 400 for %s and starts nothing', async (_case, body, message) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(message);
    expect(rollouts()).toEqual([]);
  });

  it('starts one rollout per image version and answers 409 while it runs (S5)', async () => {
    const first = await post({ image: 'linux', version: '2026.12.1', batchPercent: 50 });
    expect(first.status).toBe(202);
    expect(JSON.parse(first.body).id).toBe(InstanceIds.rollout('linux-agent', '2026.12.1'));
    expect(host.runner.getStatus(InstanceIds.rollout('linux-agent', '2026.12.1'))!.input).toMatchObject({
      definition: 'linux-agent',
      version: '2026.12.1',
      source: 'http',
      dryRun: false,
      options: { batchPercent: 50 },
    });
    const second = await post({ image: 'linux-agent', version: '2026.12.1' });
    expect(second.status).toBe(409);
    expect(JSON.parse(second.body).statusQueryGetUri).toContain(
      InstanceIds.rollout('linux-agent', '2026.12.1'),
    );
    // A dry run of the same version is a separate plan and may run alongside.
    expect((await post({ image: 'linux', version: '2026.12.1', dryRun: true })).status).toBe(202);
  });
});

describe('Event Grid trigger', () => {
  it.each([
    ['an unrelated event type', event(versionId('2026.12.7'), 'Microsoft.Resources.ResourceDeleteSuccess')],
    ['a malformed subject', event('/subscriptions/x/resourceGroups/y')],
    ['another gallery', event(versionId('2026.12.7', 'galOther'))],
    ['an unknown image definition', event(versionId('2026.12.7', 'galKiln', 'other-agent'))],
    [
      'a subscription validation event',
      {
        id: 'v',
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        subject: '',
        data: { validationCode: 'abc' },
      },
    ],
  ])('acknowledges and ignores %s', async (_case, e) => {
    const before = rollouts().length;
    await expect(host.deliverEvent('galleryVersionEvents', e)).resolves.toBeUndefined();
    expect(rollouts()).toHaveLength(before);
  });

  it('starts one rollout for a version however often and in whatever order its events arrive (S5)', async () => {
    const id = InstanceIds.rollout('linux-agent', '2026.12.9');
    await host.deliverEvent('galleryVersionEvents', event(versionId('2026.12.9')));
    await host.deliverEvent('galleryVersionEvents', event(versionId('2026.12.8')));
    await host.deliverEvent('galleryVersionEvents', event(versionId('2026.12.9')));
    expect(rollouts().filter((r) => r.instanceId === id)).toHaveLength(1);
    expect(host.runner.getStatus(id)!.input).toMatchObject({ source: 'eventgrid', dryRun: false });
    // After the rollout ended, a late duplicate still starts nothing.
    host.runner.terminate(id, 'ended for the test');
    await host.deliverEvent('galleryVersionEvents', event(versionId('2026.12.9')));
    expect(host.runner.getStatus(id)!.runtimeStatus).toBe('Terminated');
  });
});

describe('a later delivery retries a rollout only when it did not decide (mayRollAgain)', () => {
  const status = (runtimeStatus: string, state?: string) =>
    ({ runtimeStatus, output: state ? { state } : undefined }) as unknown as DurableOrchestrationStatus;
  it.each([
    ['crashed (Failed)', status('Failed'), true],
    ['ended failed (a lost start: an outage at its first read)', status('Completed', 'failed'), true],
    ['skipped a version not ready then (excluded, still publishing)', status('Completed', 'skipped'), true],
    ['succeeded', status('Completed', 'succeeded'), false],
    ['partial', status('Completed', 'partial'), false],
    ['rolled back (a bad version stays out)', status('Completed', 'rolledBack'), false],
    ['terminated by an operator', status('Terminated'), false],
    ['still running', status('Running'), false],
  ])('%s → again: %s', (_case, previous, again) => {
    expect(mayRollAgain(previous)).toBe(again);
  });
});
