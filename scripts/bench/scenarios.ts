/**
 * The benchmark's scenarios, generated in code (format: docs/scenarios.md) so their size
 * stays a parameter. `npm run bench -- --write-scenarios` also writes them as YAML next to this file
 * (scripts/bench/scenarios/) for `kiln simulate --scenario`.
 *
 * - large: 3 regions, 20 scale sets of 50 instances (10 Linux with GitHub runners, 10 Windows with
 *   ADO agents, spread over the regions), busy jobs on 10% of the instances (every 10th instance),
 *   monthly rebuild: timers on, start 2026-12-01T02:55Z (the rebuild timer fires at 03:00 on the 1st).
 * - large-remote-canary: the same monthly rebuild, the canary of each image in the second region
 *   (northeurope): the version is published to the build region and the canary's, and replicated to
 *   the third while the canary proves it.
 * - large-rollout: the same fleet, each image rolled to a version that already exists (http-rollout),
 *   timers off.
 * - cleanup: 5,000 GitHub runner registrations: 4,700 of instances (5 Linux scale sets of 940), 300
 *   ghosts; one cleanup (POST /api/cleanups), timers off.
 * - autoscale-day: capacity on demand (issue 19): a day of bursty job demand on 10 autoscaled scale
 *   sets (6 Linux with GitHub JIT runners, 4 Windows with Azure DevOps agents) that start empty,
 *   scale to zero and keep no warm machine (min 0, warm 0, idle 0 minutes): every machine is
 *   started for a job, which is what the oracle measures against. Timers on (the autoscaler every
 *   minute, hygiene every 15), 2026-12-02 (no monthly rebuild).
 */
import { stringify } from 'yaml';

export const LARGE = { regions: ['westeurope', 'northeurope', 'swedencentral'], scaleSets: 20, capacity: 50 };

export interface BenchScenarioOptions {
  /** Linux and Windows build minutes (default 60 / 120). */
  buildMinutes?: number;
  /** The region of each image's canary (default: none tagged, the first scale set of the image leads). */
  canaryRegion?: string;
}

function fleet(prefix = 'vmss', canaryRegion?: string): { scaleSets: object[]; jobs: object[] } {
  const scaleSets: object[] = [];
  const jobs: object[] = [];
  const withCanary = new Set<string>();
  for (let i = 0; i < LARGE.scaleSets; i++) {
    const image = i % 2 === 0 ? 'linux' : 'windows';
    const region = LARGE.regions[Math.floor(i / 2) % LARGE.regions.length]!;
    const name = `${prefix}-${image === 'linux' ? 'gh' : 'ado'}-${String(i).padStart(2, '0')}`;
    // The first scale set of each image in the canary's region takes the canary.
    const canary = region === canaryRegion && !withCanary.has(image);
    if (canary) withCanary.add(image);
    scaleSets.push({ name, image, region, capacity: LARGE.capacity, ...(canary ? { canary: true } : {}) });
    // Busy jobs on 10% of the instances: every 10th, of 30 to 300 minutes, some starting later.
    for (let id = i % 10; id < LARGE.capacity; id += 10) {
      const n = i * LARGE.capacity + id;
      jobs.push({
        instance: `${name}_${id}`,
        minutes: 30 + ((n * 37) % 271),
        startAfterMinutes: (n * 13) % 120,
      });
    }
  }
  return { scaleSets, jobs };
}

export function largeRebuild(options: BenchScenarioOptions = {}): Record<string, unknown> {
  const name = options.buildMinutes
    ? `bench-large-build-${options.buildMinutes}m`
    : options.canaryRegion
      ? `bench-large-canary-${options.canaryRegion}`
      : 'bench-large';
  return {
    version: 1,
    name,
    start: '2026-12-01T02:55:00Z',
    until: '2026-12-03T02:55:00Z',
    timers: true,
    gallery: {
      regions: LARGE.regions,
      existingVersions: { linux: ['2026.10.1', '2026.11.1'], windows: ['2026.10.1', '2026.11.1'] },
    },
    images: {
      linux: { buildMinutes: options.buildMinutes ?? 60 },
      windows: { buildMinutes: options.buildMinutes ?? 120 },
    },
    ...fleet('vmss', options.canaryRegion),
  };
}

export function largeRollout(): Record<string, unknown> {
  const { scaleSets, jobs } = fleet();
  return {
    version: 1,
    name: 'bench-large-rollout',
    start: '2026-12-01T02:55:00Z',
    until: '2026-12-03T02:55:00Z',
    timers: false,
    trigger: ['http-rollout'],
    gallery: {
      regions: LARGE.regions,
      existingVersions: { linux: ['2026.10.1', '2026.11.1'], windows: ['2026.10.1', '2026.11.1'] },
    },
    scaleSets: scaleSets.map((s) => ({ ...s, version: '2026.10.1' })),
    jobs,
  };
}

export const AUTOSCALE_DAY = { linux: 6, windows: 4, max: 40, latency: { provision: 4, register: 2 } };

export function autoscaleDay(): Record<string, unknown> {
  const day = (hour: number) => `2026-12-02T${String(hour).padStart(2, '0')}:00:00Z`;
  const windows = (rates: [from: number, to: number, perHour: number][]) =>
    rates.map(([from, to, perHour]) => ({
      from: day(from),
      to: to === 24 ? '2026-12-03T00:00:00Z' : day(to),
      perHour,
    }));
  const scaleSets = [
    ...Array.from({ length: AUTOSCALE_DAY.linux }, (_, i) => ({
      name: `vmss-gh-${i}`,
      image: 'linux',
      region: LARGE.regions[i % 2]!,
      capacity: 0,
      autoscale: { min: 0, max: AUTOSCALE_DAY.max, warm: 0, idleMinutes: 0 },
    })),
    ...Array.from({ length: AUTOSCALE_DAY.windows }, (_, i) => ({
      name: `vmss-ado-${i}`,
      image: 'windows',
      region: LARGE.regions[i % 2]!,
      capacity: 0,
      autoscale: { min: 0, max: AUTOSCALE_DAY.max, warm: 0, idleMinutes: 0 },
    })),
  ];
  return {
    version: 1,
    name: 'bench-autoscale-day',
    start: '2026-12-02T00:00:00Z',
    until: '2026-12-03T00:00:00Z',
    timers: true,
    gallery: {
      regions: LARGE.regions.slice(0, 2),
      existingVersions: { linux: ['2026.11.1'], windows: ['2026.11.1'] },
    },
    scaleSets,
    latency: AUTOSCALE_DAY.latency,
    workload: {
      seed: 19,
      // GitHub tells kiln of each job by webhook; one in 20 deliveries is lost (the reconcile finds it).
      webhooks: { lose: 0.05 },
      streams: [
        {
          fleet: 'github',
          labels: ['self-hosted', 'linux'],
          // A trickle at night, the morning ramp, a burst after stand-up, the day, the evening push.
          arrivals: windows([
            [0, 7, 6],
            [7, 9, 60],
            [9, 10, 240],
            [10, 17, 90],
            [17, 18, 150],
            [18, 24, 12],
          ]),
          minutes: { min: 3, max: 25 },
        },
        {
          fleet: 'ado',
          pool: 'kiln-windows',
          arrivals: windows([
            [7, 9, 20],
            [9, 10, 80],
            [10, 19, 30],
          ]),
          minutes: { min: 5, max: 30 },
        },
      ],
    },
  };
}

export const CLEANUP = { scaleSets: 5, capacity: 940, ghosts: 300 };

export function cleanup(): Record<string, unknown> {
  return {
    version: 1,
    name: 'bench-cleanup-5000',
    start: '2026-12-01T02:55:00Z',
    until: '2026-12-01T08:55:00Z',
    timers: false,
    trigger: ['cleanup'],
    gallery: { regions: ['westeurope'], existingVersions: { linux: ['2026.11.1'], windows: ['2026.11.1'] } },
    scaleSets: Array.from({ length: CLEANUP.scaleSets }, (_, i) => ({
      name: `vmss-gh-clean-${i}`,
      image: 'linux',
      region: 'westeurope',
      capacity: CLEANUP.capacity,
    })),
    ghosts: { github: CLEANUP.ghosts, ado: 0 },
  };
}

export const SCENARIOS = {
  large: () => largeRebuild(),
  'large-12h-build': () => largeRebuild({ buildMinutes: 12 * 60 }),
  'large-remote-canary': () => largeRebuild({ canaryRegion: LARGE.regions[1] }),
  'large-rollout': largeRollout,
  cleanup,
  'autoscale-day': autoscaleDay,
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

export function scenarioYaml(name: ScenarioName): string {
  const header = `# Generated by \`npm run bench -- --write-scenarios\` from scripts/bench/scenarios.ts; edit that file.\n`;
  return header + stringify(SCENARIOS[name](), { lineWidth: 0 });
}
