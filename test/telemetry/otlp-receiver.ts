/**
 * A local OTLP/HTTP metrics receiver for tests: a plain HTTP server on 127.0.0.1 that takes what
 * kiln's OTLP exporter posts to /v1/metrics (OTLP JSON, as @opentelemetry/exporter-metrics-otlp-http
 * sends it), answers as a collector does, and keeps every data point it was sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
};

interface OtlpDataPoint {
  attributes?: { key: string; value: AnyValue }[];
  timeUnixNano?: string | number;
  asDouble?: number;
  asInt?: number | string;
  count?: number | string;
  sum?: number;
}

interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: OtlpDataPoint[] };
  sum?: { dataPoints: OtlpDataPoint[]; isMonotonic?: boolean };
  histogram?: { dataPoints: OtlpDataPoint[] };
}

interface OtlpExport {
  resourceMetrics: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeMetrics: { metrics: OtlpMetric[] }[];
  }[];
}

/** One data point as received: attributes as plain values; a histogram's count and sum. */
export interface ReceivedPoint {
  metric: string;
  unit: string;
  kind: 'gauge' | 'sum' | 'histogram';
  attributes: Record<string, string | number | boolean>;
  value: number;
  count?: number;
  /** Order of arrival: later exports of a cumulative metric hold its totals. */
  seq: number;
}

export interface OtlpReceiver {
  /** Base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  /** Every request posted, with its path and content type. */
  requests: { path: string; contentType: string }[];
  resourceAttributes: Record<string, string | number | boolean>[];
  points(metric?: string): ReceivedPoint[];
  /** The last point received of each attribute set of `metric` (a cumulative exporter's totals, a gauge's value). */
  latest(metric: string): ReceivedPoint[];
  close(): Promise<void>;
}

function plain(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  throw new Error(`unexpected OTLP attribute value ${JSON.stringify(value)}`);
}

function attributesOf(
  list: { key: string; value: AnyValue }[] = [],
): Record<string, string | number | boolean> {
  return Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedPoint[] = [];
  const requests: OtlpReceiver['requests'] = [];
  const resourceAttributes: OtlpReceiver['resourceAttributes'] = [];
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      requests.push({ path: req.url ?? '', contentType });
      if (req.method !== 'POST' || req.url !== '/v1/metrics' || !contentType.includes('application/json')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const rm of body.resourceMetrics) {
        resourceAttributes.push(attributesOf(rm.resource?.attributes));
        for (const sm of rm.scopeMetrics)
          for (const metric of sm.metrics) {
            const kind = metric.gauge ? 'gauge' : metric.sum ? 'sum' : 'histogram';
            const data = metric.gauge ?? metric.sum ?? metric.histogram;
            for (const point of data?.dataPoints ?? [])
              received.push({
                metric: metric.name,
                unit: metric.unit ?? '',
                kind,
                attributes: attributesOf(point.attributes),
                value:
                  kind === 'histogram'
                    ? Number(point.sum ?? 0)
                    : Number(point.asDouble ?? point.asInt ?? NaN),
                ...(kind === 'histogram' ? { count: Number(point.count) } : {}),
                seq: seq++,
              });
          }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    resourceAttributes,
    points: (metric) => received.filter((p) => metric === undefined || p.metric === metric),
    latest(metric) {
      const last = new Map<string, ReceivedPoint>();
      for (const point of received.filter((p) => p.metric === metric))
        last.set(JSON.stringify(Object.entries(point.attributes).sort()), point);
      return [...last.values()];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
