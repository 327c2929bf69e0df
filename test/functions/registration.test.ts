import { describe, expect, it } from 'vitest';
import { loadApp } from '../../src/local/host/app-host.js';
import { Activities, Orchestrations } from '../../src/names.js';

// Loads src/functions/index.ts exactly as the Functions host would and checks what it registers.
describe('function registrations', () => {
  it('registers every function with the right trigger', async () => {
    process.env.CLEANUP_SCHEDULE = '0 */5 * * * *';
    const registrations = await loadApp();
    const byName = new Map(registrations.map((r) => [r.name, r]));

    for (const name of Object.values(Orchestrations))
      expect(byName.get(name)?.trigger.type, name).toBe('orchestrationTrigger');
    for (const name of Object.values(Activities))
      expect(byName.get(name)?.trigger.type, name).toBe('activityTrigger');

    const timer = byName.get('cleanupTimer')!;
    expect(timer.trigger).toMatchObject({ type: 'timerTrigger', direction: 'in', schedule: '0 */5 * * * *' });
    expect(Object.values(timer.bindings).some((b) => b.type === 'durableClient')).toBe(true);
    // The autoscaler looks every minute by default (AUTOSCALE_SCHEDULE).
    expect(byName.get('autoscaleTimer')!.trigger).toMatchObject({
      type: 'timerTrigger',
      schedule: '0 */1 * * * *',
    });

    const http = byName.get('startCleanup')!;
    expect(http.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'cleanups',
      methods: ['POST'],
      authLevel: 'function',
    });
    expect(Object.values(http.bindings).some((b) => b.type === 'durableClient')).toBe(true);
    expect(Object.values(http.bindings).some((b) => b.type === 'http' && b.direction === 'out')).toBe(true);

    const rollout = byName.get('startRollout')!;
    expect(rollout.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'rollouts',
      methods: ['POST'],
      authLevel: 'function',
    });

    expect(byName.get('rebuildTimer')!.trigger).toMatchObject({
      type: 'timerTrigger',
      schedule: '0 0 3 1 * *',
    });
    expect(byName.get('runnerReleaseTimer')!.trigger).toMatchObject({
      type: 'timerTrigger',
      schedule: '0 0 6 * * *',
    });
    expect(byName.get('startRebuild')!.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'rebuilds',
      methods: ['POST'],
      authLevel: 'function',
    });

    for (const [name, route] of [
      ['getFleet', 'fleet'],
      ['listRuns', 'runs'],
      ['getRun', 'runs/{id}'],
      ['dashboard', 'dashboard'],
      ['getImageSoftware', 'images/{image}/{version}/software'],
    ] as const)
      expect(byName.get(name)!.trigger, name).toMatchObject({
        type: 'httpTrigger',
        route,
        methods: ['GET'],
        authLevel: 'function',
      });

    // The registration broker is reached by runner VMs, which hold a managed identity, not a function key.
    expect(byName.get('registerRunner')!.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'registrations',
      methods: ['POST'],
      authLevel: 'anonymous',
    });

    // GitHub's webhooks carry no function key: each delivery is authenticated by its HMAC signature.
    expect(byName.get('githubWebhooks')!.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'github/webhooks',
      methods: ['POST'],
      authLevel: 'anonymous',
    });

    const events = byName.get('galleryVersionEvents')!;
    expect(events.trigger).toMatchObject({ type: 'eventGridTrigger', direction: 'in' });
    expect(Object.values(events.bindings).some((b) => b.type === 'durableClient')).toBe(true);

    const names = registrations.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(
      [
        ...Object.values(Activities),
        ...Object.values(Orchestrations),
        'cleanupTimer',
        'autoscaleTimer',
        'startCleanup',
        'startRollout',
        'galleryVersionEvents',
        'rebuildTimer',
        'runnerReleaseTimer',
        'startRebuild',
        'approveRebuild',
        'rejectRebuild',
        'getFleet',
        'listRuns',
        'getRun',
        'dashboard',
        'getImageSoftware',
        'registerRunner',
        'githubWebhooks',
      ].sort(),
    );
  });
});
