/**
 * kiln's metrics: the one OpenTelemetry MeterProvider of the process and the instruments of
 * instruments.ts, behind methods that take kiln's own facts. Exporters follow the standard settings:
 * the Azure Monitor exporter when APPLICATIONINSIGHTS_CONNECTION_STRING is set (with kiln's managed
 * identity when APPLICATIONINSIGHTS_AUTHENTICATION_STRING says Authorization=AAD, as Application
 * Insights with local auth off requires), OTLP/HTTP (JSON) when OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, both when both are; with neither, no provider is made and every
 * record is the OpenTelemetry API's no-op. Metrics are exported every OTEL_METRIC_EXPORT_INTERVAL
 * and once more at shutdown.
 *
 * Only activities and clients record (an orchestrator replays, and would count again). An export that
 * fails is dropped quietly: metrics never fail a flow.
 */
import { createNoopMeter, type Attributes, type Meter } from '@opentelemetry/api';
import type { TokenCredential } from '@azure/identity';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { AzureMonitorMetricExporter } from '@azure/monitor-opentelemetry-exporter';
import type { ApiObserver, ApiService, ScaleSetInstance } from '../clients/types.js';
import type { Settings } from '../config/load-settings.js';
import { definitionOfImageReference, versionOfImageReference } from '../domain/rollout.js';
import { METRICS, type MetricSpec } from './instruments.js';

/** What kiln records, in its own terms; see instruments.ts for each metric. */
export interface KilnMetrics extends ApiObserver {
  /** Where metrics go: 'azure-monitor', 'otlp'; empty when nowhere. */
  readonly exporters: readonly string[];
  /** A full instance list of one managed scale set: instances by image version and model. */
  fleetInstances(scaleSet: string, instances: readonly ScaleSetInstance[]): void;
  imageAge(image: string, days: number): void;
  /** The runner baked into the newest promoted Linux version, the latest release, and the days left before GitHub refuses the baked one. */
  runner(runner: { version: string; latest: string; daysLeft: number }): void;
  ghostsFound(fleet: string, count: number): void;
  ghostRemoved(fleet: string): void;
  rolloutEnded(rollout: {
    image: string;
    version: string;
    source: string;
    state: string;
    seconds: number;
    scaleSets: readonly { name: string; state: string; waves: number }[];
  }): void;
  rebuildEnded(rebuild: {
    image: string;
    outcome: string;
    trigger: string;
    seconds: number;
    buildSeconds?: number;
  }): void;
  /** Exports what is recorded and stops exporting (the process or its runtime ends). */
  shutdown(): Promise<void>;
}

export type TelemetrySettings = Settings['telemetry'];

/**
 * The metrics of this process, exporting where the settings say; `credential` signs the Azure Monitor
 * exporter in when the authentication string asks for Entra ID.
 */
export function startMetrics(telemetry: TelemetrySettings, credential: TokenCredential): KilnMetrics {
  const exporters: { name: string; exporter: PushMetricExporter }[] = [];
  if (telemetry.appInsights)
    exporters.push({
      name: 'azure-monitor',
      exporter: new AzureMonitorMetricExporter({
        connectionString: telemetry.appInsights.connectionString,
        ...(telemetry.appInsights.entraAuth ? { credential } : {}),
      }),
    });
  if (telemetry.otlpMetricsUrl)
    exporters.push({ name: 'otlp', exporter: new OTLPMetricExporter({ url: telemetry.otlpMetricsUrl }) });
  if (exporters.length === 0) return NO_METRICS;
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'kiln' }),
    readers: exporters.map(
      ({ exporter }) =>
        new PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: telemetry.exportIntervalMs,
          exportTimeoutMillis: Math.min(30_000, telemetry.exportIntervalMs),
        }),
    ),
  });
  return recordingTo(provider.getMeter('kiln'), {
    exporters: exporters.map((e) => e.name),
    // A failed last export is the same as a failed periodic one: dropped, never thrown at the caller.
    shutdown: () => provider.shutdown().catch(() => undefined),
  });
}

/** Metrics that go nowhere (no exporter is set, or a tool that reports its own way). */
export const NO_METRICS: KilnMetrics = recordingTo(createNoopMeter(), {
  exporters: [],
  shutdown: () => Promise.resolve(),
});

function recordingTo(
  meter: Meter,
  { exporters, shutdown }: Pick<KilnMetrics, 'exporters' | 'shutdown'>,
): KilnMetrics {
  const options = (spec: MetricSpec) => ({
    description: spec.description,
    unit: spec.unit,
    ...(spec.buckets ? { advice: { explicitBucketBoundaries: [...spec.buckets] } } : {}),
  });
  const gauge = (spec: MetricSpec) => meter.createGauge(spec.name, options(spec));
  const counter = (spec: MetricSpec) => meter.createCounter(spec.name, options(spec));
  const histogram = (spec: MetricSpec) => meter.createHistogram(spec.name, options(spec));

  const fleetInstances = gauge(METRICS.fleetInstances);
  const imageAge = gauge(METRICS.imageAge);
  const runnerVersion = gauge(METRICS.runnerVersion);
  const runnerDaysLeft = gauge(METRICS.runnerDaysLeft);
  const ghostsFound = gauge(METRICS.ghostsFound);
  const ghostsRemoved = counter(METRICS.ghostsRemoved);
  const rolloutDuration = histogram(METRICS.rolloutDuration);
  const rolloutWaves = histogram(METRICS.rolloutWaves);
  const rolloutRollbacks = counter(METRICS.rolloutRollbacks);
  const rebuildDuration = histogram(METRICS.rebuildDuration);
  const buildDuration = histogram(METRICS.buildDuration);
  const rebuildOutcome = counter(METRICS.rebuildOutcome);
  const apiRequests = counter(METRICS.apiRequests);
  const apiRateLimitRemaining = gauge(METRICS.apiRateLimitRemaining);

  // A gauge keeps reporting the last value of every attribute set it was given (cumulative
  // exporters): a version that left a scale set, or a runner pair that is not the current one any
  // more, is set to 0, or it would show forever. These remember what each was last given.
  const lastInstanceSeries = new Map<string, Attributes[]>();
  let lastRunner: Attributes | undefined;

  return {
    exporters,
    shutdown,

    fleetInstances(scaleSet, instances) {
      const counts = new Map<string, { attributes: Attributes; count: number }>();
      for (const instance of instances) {
        const attributes = {
          scale_set: scaleSet,
          image: definitionOfImageReference(instance.imageReferenceId) ?? 'other',
          version: versionOfImageReference(instance.imageReferenceId) ?? 'other',
          latest_model: String(instance.latestModelApplied),
        };
        const key = JSON.stringify(attributes);
        const entry = counts.get(key) ?? { attributes, count: 0 };
        entry.count++;
        counts.set(key, entry);
      }
      for (const previous of lastInstanceSeries.get(scaleSet) ?? [])
        if (!counts.has(JSON.stringify(previous))) fleetInstances.record(0, previous);
      for (const { attributes, count } of counts.values()) fleetInstances.record(count, attributes);
      lastInstanceSeries.set(
        scaleSet,
        [...counts.values()].map((c) => c.attributes),
      );
    },

    imageAge(image, days) {
      imageAge.record(days, { image });
    },

    runner({ version, latest, daysLeft }) {
      const series = { version, latest };
      if (lastRunner && JSON.stringify(lastRunner) !== JSON.stringify(series))
        runnerVersion.record(0, lastRunner);
      runnerVersion.record(1, series);
      lastRunner = series;
      runnerDaysLeft.record(daysLeft);
    },

    ghostsFound(fleet, count) {
      ghostsFound.record(count, { fleet });
    },

    ghostRemoved(fleet) {
      ghostsRemoved.add(1, { fleet });
    },

    rolloutEnded(rollout) {
      rolloutDuration.record(rollout.seconds, {
        image: rollout.image,
        source: rollout.source,
        state: rollout.state,
      });
      for (const scaleSet of rollout.scaleSets) {
        rolloutWaves.record(scaleSet.waves, {
          image: rollout.image,
          scale_set: scaleSet.name,
          state: scaleSet.state,
        });
        if (scaleSet.state === 'rolledBack')
          rolloutRollbacks.add(1, {
            image: rollout.image,
            version: rollout.version,
            scale_set: scaleSet.name,
          });
      }
    },

    rebuildEnded(rebuild) {
      rebuildOutcome.add(1, { image: rebuild.image, outcome: rebuild.outcome, trigger: rebuild.trigger });
      rebuildDuration.record(rebuild.seconds, { image: rebuild.image, outcome: rebuild.outcome });
      if (rebuild.buildSeconds !== undefined)
        buildDuration.record(rebuild.buildSeconds, { image: rebuild.image });
    },

    response(service, status, headers) {
      apiRequests.add(1, { service, status: String(status) });
      for (const [limit, remaining] of rateLimitsOf(service, headers))
        apiRateLimitRemaining.record(remaining, { service, limit });
    },

    failure(service) {
      apiRequests.add(1, { service, status: 'error' });
    },
  };
}

/**
 * The rate-limit headroom an answer states, by limit. ARM: every x-ms-ratelimit-remaining-* header
 * (subscription-reads, subscription-writes, subscription-global-reads, tenant-reads, …). GitHub and
 * Azure DevOps: x-ratelimit-remaining, for the limit x-ratelimit-resource names (GitHub: core,
 * search, …).
 */
export function rateLimitsOf(service: ApiService, headers: Iterable<[string, string]>): [string, number][] {
  const found: [string, number][] = [];
  let remaining: number | undefined;
  let resource: string | undefined;
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    const number = Number(value);
    if (service === 'arm') {
      const limit = /^x-ms-ratelimit-remaining-((?:subscription|tenant)-[a-z-]+)$/.exec(name)?.[1];
      if (limit && value.trim() !== '' && Number.isFinite(number)) found.push([limit, number]);
    } else if (name === 'x-ratelimit-remaining' && value.trim() !== '' && Number.isFinite(number))
      remaining = number;
    else if (name === 'x-ratelimit-resource') resource = value.trim().toLowerCase();
  }
  if (remaining !== undefined) found.push([resource || 'core', remaining]);
  return found;
}
