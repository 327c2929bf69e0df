/**
 * GET /api/fleet: the fleet as it is now — managed scale sets (instances by image version,
 * runners/agents online, busy, offline, drift and runner compliance, the pace of a rollout moving
 * them) and the gallery's versions per image with their state.
 * Reads only, through the same client wrappers and scope rule (S2) the activities use; the shaping
 * is src/domain/fleet.ts. A part that cannot be read is named in `errors` and the rest is answered.
 */
import * as df from 'durable-functions';
import { createListManagedScaleSetsActivity } from '../activities/inventory.js';
import type { ActivityDeps } from '../activities/deps.js';
import type { FullGitHubClient, GalleryImageVersionInfo, ScaleSetInstance } from '../clients/types.js';
import { ensureError } from '../clients/errors.js';
import { shapeFleet, type FleetView, type ImageKind } from '../domain/fleet.js';
import type { RunningRollout } from '../domain/fleet-drift.js';
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import { readRunningRollouts } from './fleet-rollouts.js';
import { getRuntime, now } from './runtime.js';
import { expiringPromise } from '../registration/expiring-promise.js';
import { InstanceIds, Orchestrations } from '../names.js';
import { storedOutput } from '../orchestration-contracts.js';
import type { AutoscaleOutput } from '../orchestrations/autoscale.js';
import { previousStatus } from './start-run.js';

type RunnerRelease = Awaited<ReturnType<FullGitHubClient['getLatestRunnerRelease']>>;
/** The latest runner release, read once an hour per GitHub client: a dashboard open at its 10 s refresh would read it 360 times an hour. */
const RELEASE_READ_MS = 3600_000;
const releaseReads = new WeakMap<FullGitHubClient, (nowMs: number) => Promise<RunnerRelease>>();

function latestRunnerRelease(github: FullGitHubClient, at: Date): Promise<RunnerRelease> {
  let read = releaseReads.get(github);
  if (!read) {
    read = expiringPromise(RELEASE_READ_MS, () => github.getLatestRunnerRelease());
    releaseReads.set(github, read);
  }
  return read(at.getTime());
}

export function registerFleet(): void {
  app.http('getFleet', {
    route: 'fleet',
    methods: ['GET'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (_request: HttpRequest, context: InvocationContext) => {
      const client = df.getClient(context);
      const fleet = await readFleet(
        getRuntime(),
        now(),
        () => readRunningRollouts(client),
        async () =>
          storedOutput(Orchestrations.autoscale, await previousStatus(client, InstanceIds.autoscale)),
      );
      if (fleet.errors.length > 0) context.warn(`fleet read with ${fleet.errors.length} error(s)`);
      return new HttpResponse({
        status: 200,
        jsonBody: fleet,
        headers: { 'Cache-Control': 'no-store' },
      });
    },
  });
}

async function read<T>(errors: string[], what: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (thrown) {
    errors.push(`could not read ${what}: ${ensureError(thrown).message}`);
    return undefined;
  }
}

/** Reads everything the fleet view needs, in parallel where the services allow it. */
async function readFleet(
  deps: ActivityDeps,
  at: Date,
  rollouts: () => Promise<RunningRollout[]>,
  autoscale: () => Promise<AutoscaleOutput | undefined>,
): Promise<FleetView> {
  const { arm, github, ado, settings } = deps;
  const errors: string[] = [];
  const listed = await createListManagedScaleSetsActivity(deps)();
  if (!listed.ok) errors.push(listed.error.message);
  const scaleSets = listed.ok ? listed.value : [];

  const images: { image: ImageKind; definition: string }[] = [
    { image: 'linux', definition: settings.gallery.definitions.linux },
    { image: 'windows', definition: settings.gallery.definitions.windows },
  ];
  const galleryConfigured = Boolean(settings.gallery.name && settings.gallery.resourceGroup);

  const [instances, runners, agents, gallery, runnerRelease, running, lastLook] = await Promise.all([
    Promise.all(
      scaleSets.map(
        async (s) =>
          [s.id, await read(errors, `the instances of ${s.name}`, () => arm.listInstances(s.id))] as [
            string,
            ScaleSetInstance[] | undefined,
          ],
      ),
    ),
    github ? read(errors, 'the GitHub runners', () => github.listRunners()) : undefined,
    ado ? read(errors, 'the Azure DevOps agents', () => ado.listAgents()) : undefined,
    Promise.all(
      images.map(async ({ image, definition }) => ({
        image,
        definition,
        versions: galleryConfigured
          ? await read(errors, `the gallery versions of ${definition}`, () => readVersions(deps, definition))
          : [],
      })),
    ),
    github
      ? read(errors, 'the latest GitHub Actions runner release', () => latestRunnerRelease(github, at))
      : undefined,
    read(errors, 'the running rollouts', rollouts),
    read(errors, "the autoscaler's last look", autoscale),
  ]);

  return shapeFleet({
    now: at.toISOString(),
    scaleSets,
    instances: Object.fromEntries(instances),
    runners,
    agents,
    gallery,
    canaryTag: settings.canaryTag,
    ...(runnerRelease
      ? {
          runnerRelease: {
            version: runnerRelease.version,
            ...(runnerRelease.publishedAt ? { publishedAt: runnerRelease.publishedAt } : {}),
          },
        }
      : {}),
    agentVersion: settings.packer.agentVersion,
    ...(running ? { rollouts: running } : {}),
    ...(lastLook ? { autoscale: { at: lastLook.at, scaleSets: lastLook.scaleSets } } : {}),
    errors,
  });
}

/** Versions of a definition; those still being written or replicated are re-read with their replication status. */
async function readVersions(deps: ActivityDeps, definition: string): Promise<GalleryImageVersionInfo[]> {
  const versions = await deps.arm.listImageVersions(definition);
  return Promise.all(
    versions.map(async (v) => {
      if ((v.provisioningState ?? 'Succeeded') === 'Succeeded') return v;
      const detailed = await deps.arm.getImageVersion(definition, v.name, { replicationStatus: true });
      return detailed ?? v;
    }),
  );
}
