/**
 * Every metric kiln emits, in one place: name, kind, unit, attributes, meaning and where it is
 * recorded. The meter (metrics.ts) creates its instruments from this list, the README table is
 * generated from it (`npm run docs:settings`) and the infra tests check that every alert rule's query
 * names a metric and attributes listed here, so the three cannot drift apart.
 *
 * Names follow OpenTelemetry's conventions (dotted, lower case); units are UCUM. A metric reaches
 * Application Insights as a `customMetrics` row named as here, its attributes in `customDimensions`.
 * Attribute values are names, versions, states and status codes: never a secret.
 */
export type MetricKind = 'gauge' | 'counter' | 'histogram';

export interface MetricSpec {
  name: string;
  kind: MetricKind;
  unit: string;
  description: string;
  attributes: readonly string[];
  /** Where kiln records it (an activity or a client: never an orchestrator, which replays). */
  recordedIn: string;
  /** Histograms: bucket boundaries, in the metric's unit. */
  buckets?: readonly number[];
}

/** Seconds: a minute to a week, for runs that wait on durable timers for hours. */
const RUN_SECONDS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 604_800];

export const METRICS = {
  fleetInstances: {
    name: 'kiln.fleet.instances',
    kind: 'gauge',
    unit: '{instance}',
    description:
      "Instances of a managed scale set by the image version they run; latest_model is false for those not on the scale set's model (a rollout waiting for them, or one that left them pending).",
    attributes: ['scale_set', 'image', 'version', 'latest_model'],
    recordedIn: 'every full instance list of a managed scale set: cleanups and rollout looks',
  },
  imageAge: {
    name: 'kiln.image.age_days',
    kind: 'gauge',
    unit: 'd',
    description: 'Days since the newest promoted version of the image definition was published.',
    attributes: ['image'],
    recordedIn: 'reading the gallery: rebuilds and the daily runner-release watch',
  },
  runnerVersion: {
    name: 'kiln.runner.version',
    kind: 'gauge',
    unit: '1',
    description:
      'The GitHub runner baked into the newest promoted Linux version (version) and the latest release (latest): 1 for the pair seen last, 0 for pairs seen before.',
    attributes: ['version', 'latest'],
    recordedIn: 'the daily runner-release watch',
  },
  runnerDaysLeft: {
    name: 'kiln.runner.days_left',
    kind: 'gauge',
    unit: 'd',
    description:
      "Days before GitHub refuses the runner baked into the newest promoted Linux version: a runner must be updated within 30 days of a newer release (counted from the latest release's publication); 30 while the baked runner is the latest, ≤ 0 once it is refused.",
    attributes: [],
    recordedIn: 'the daily runner-release watch',
  },
  ghostsFound: {
    name: 'kiln.ghosts.found',
    kind: 'gauge',
    unit: '{registration}',
    description: 'Runners or agents whose instance is gone, as the latest cleanup found them.',
    attributes: ['fleet'],
    recordedIn: 'every cleanup once it has planned (a dry run too), for each fleet it could read whole',
  },
  ghostsRemoved: {
    name: 'kiln.ghosts.removed',
    kind: 'counter',
    unit: '{registration}',
    description: 'Ghost runners and agents kiln deleted.',
    attributes: ['fleet'],
    recordedIn: 'each removal (removeRegistrations)',
  },
  rolloutDuration: {
    name: 'kiln.rollout.duration',
    kind: 'histogram',
    unit: 's',
    description: 'How long a rollout ran, from its start to its end state (busy waits included).',
    attributes: ['image', 'source', 'state'],
    recordedIn: 'the end of every rollout',
    buckets: RUN_SECONDS,
  },
  rolloutWaves: {
    name: 'kiln.rollout.waves',
    kind: 'histogram',
    unit: '{wave}',
    description: 'Waves a rollout upgraded on one scale set, by the state the scale set ended in.',
    attributes: ['image', 'scale_set', 'state'],
    recordedIn: 'the end of every rollout, once per scale set it names',
    buckets: [0, 1, 2, 3, 5, 10, 20, 50],
  },
  rolloutRollbacks: {
    name: 'kiln.rollout.rollbacks',
    kind: 'counter',
    unit: '{rollback}',
    description: 'Scale sets a rollout rolled back after a wave broke its health gate.',
    attributes: ['image', 'version', 'scale_set'],
    recordedIn: 'the end of every rollout',
  },
  rebuildDuration: {
    name: 'kiln.rebuild.duration',
    kind: 'histogram',
    unit: 's',
    description:
      'How long a rebuild ran, from its start to its outcome (build, canary, replication, rollout).',
    attributes: ['image', 'outcome'],
    recordedIn: 'the end of every rebuild',
    buckets: RUN_SECONDS,
  },
  buildDuration: {
    name: 'kiln.rebuild.build_duration',
    kind: 'histogram',
    unit: 's',
    description: "How long a rebuild's Packer build ran, for builds that succeeded.",
    attributes: ['image'],
    recordedIn: 'the end of every rebuild whose build succeeded',
    buckets: RUN_SECONDS,
  },
  rebuildOutcome: {
    name: 'kiln.rebuild.outcome',
    kind: 'counter',
    unit: '{rebuild}',
    description:
      'Rebuilds by outcome: promoted, rejected (the canary broke), failed, skipped or planned (dry run).',
    attributes: ['image', 'outcome', 'trigger'],
    recordedIn: 'the end of every rebuild',
  },
  apiRequests: {
    name: 'kiln.api.requests',
    kind: 'counter',
    unit: '{request}',
    description:
      'HTTP requests kiln sent to ARM, GitHub and Azure DevOps, each retry counted; status is the HTTP status, or "error" when no answer came.',
    attributes: ['service', 'status'],
    recordedIn: 'the clients (an ARM pipeline policy, the GitHub and Azure DevOps fetch)',
  },
  apiRateLimitRemaining: {
    name: 'kiln.api.ratelimit.remaining',
    kind: 'gauge',
    unit: '{request}',
    description:
      "Requests left in a service's rate limit, as its last answer said: ARM's x-ms-ratelimit-remaining-* (limit: subscription-reads, subscription-writes, …), GitHub's and Azure DevOps' x-ratelimit-remaining (limit: x-ratelimit-resource).",
    attributes: ['service', 'limit'],
    recordedIn: 'the clients, on every answer that carries the header',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricId = keyof typeof METRICS;
