import { performance } from 'node:perf_hooks';
import type { Attributes, HrTime, ValueType } from '@opentelemetry/api';
import { DURATION_BUCKETS } from '../durationBuckets.js';
import { HistogramTable } from '../histogramTable.js';
import { checkHttpServerMetricsOptions, watchHttpRequests, type HttpServerMetricsOptions, type OpenSeries, type ReleaseSeries } from './httpRequestSeries.js';

/**
 * The metric data a producer hands the SDK, in the shape of
 * `@opentelemetry/sdk-metrics`' `MetricData` (its enums written as their
 * values: `dataPointType` 0 histogram / 3 sum, `aggregationTemporality` 1
 * cumulative), so this package needs no SDK types.
 */
export type HttpServerMetricData =
  | {
      readonly descriptor: { readonly name: string; readonly description: string; readonly unit: string; readonly valueType: ValueType.DOUBLE; readonly type: 'HISTOGRAM' };
      readonly aggregationTemporality: 1;
      readonly dataPointType: 0;
      readonly dataPoints: HistogramDataPoint[];
    }
  | {
      readonly descriptor: { readonly name: string; readonly description: string; readonly unit: string; readonly valueType: ValueType.INT; readonly type: 'OBSERVABLE_UP_DOWN_COUNTER' };
      readonly aggregationTemporality: 1;
      readonly dataPointType: 3;
      readonly isMonotonic: false;
      readonly dataPoints: SumDataPoint[];
    };

interface DataPoint<T> {
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly attributes: Attributes;
  readonly value: T;
}
type HistogramDataPoint = DataPoint<{ buckets: { boundaries: number[]; counts: number[] }; sum: number; count: number; min: number; max: number }>;
type SumDataPoint = DataPoint<number>;

/** What {@link HttpServerMetricProducer.collect} returns: the SDK's `CollectionResult`. */
export interface HttpServerMetricsCollection {
  resourceMetrics: {
    /** None: a `MetricReader` keeps its own resource and ignores its producers'. */
    resource: never;
    scopeMetrics: { scope: { name: string }; metrics: HttpServerMetricData[] }[];
  };
  errors: unknown[];
}

/** A `MetricProducer` for `@opentelemetry/sdk-metrics`: give it to a `MetricReader` as one of its `metricProducers`. */
export interface HttpServerMetricProducer {
  /** What the reader calls when it collects: the metrics aggregated since the producer was created. */
  collect(options?: { timeoutMillis?: number }): Promise<HttpServerMetricsCollection>;
  /**
   * Unsubscribes; requests already open are no longer recorded. The durations
   * recorded are still collected; `active_requests` is no longer reported
   * (as when a meter's callback is removed), since it could no longer fall.
   */
  stop(): void;
}

/** The scope the metrics are reported under. */
const SCOPE = Object.freeze({ name: '@lifeline/node-adapter' });

/**
 * The same metrics as {@link recordHttpServerMetrics} (names, attributes,
 * buckets, units), aggregated by Lifeline itself and handed to the
 * OpenTelemetry SDK only when a reader collects: a request's release costs a
 * few map lookups and the update of one row of a typed array (count, sum,
 * min, max, bucket), with no SDK call and no allocation. It needs
 * `@opentelemetry/sdk-metrics` (1.16 or later: the reader's
 * `metricProducers` option), not just a `Meter`: pass it to the reader when
 * you create it. The data is cumulative, whatever temporality the exporter
 * prefers, and carries the reader's resource.
 *
 * @example
 * ```ts
 * import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
 * import { createHttpServerMetricProducer } from '@lifeline/node-adapter/otel';
 * const producer = createHttpServerMetricProducer({ registry: instrument(server) });
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [producer] });
 * const provider = new MeterProvider({ readers: [reader] });
 * ```
 */
export function createHttpServerMetricProducer(options?: HttpServerMetricsOptions): HttpServerMetricProducer {
  const watched = checkHttpServerMetricsOptions('createHttpServerMetricProducer', options);
  const table = new HistogramTable(DURATION_BUCKETS);
  const watch = watchHttpRequests(watched, {
    newRow: () => table.addRow(),
    release: (series, seconds) => table.record(series.row, seconds),
  });
  const startTime = hrNow();
  let stopped = false;
  return {
    collect() {
      const endTime = hrNow();
      return Promise.resolve({
        resourceMetrics: {
          resource: undefined as never,
          scopeMetrics: [{ scope: SCOPE, metrics: [durationData(table, watch.releases, startTime, endTime), activeData(stopped ? [] : watch.open, startTime, endTime)] }],
        },
        errors: [],
      });
    },
    stop() {
      stopped = true;
      watch.stop();
    },
  };
}

function durationData(table: HistogramTable, series: readonly ReleaseSeries[], startTime: HrTime, endTime: HrTime): HttpServerMetricData {
  return {
    descriptor: { name: 'http.server.request.duration', description: 'Duration of HTTP server requests.', unit: 's', valueType: 1 as ValueType.DOUBLE, type: 'HISTOGRAM' },
    aggregationTemporality: 1,
    dataPointType: 0,
    dataPoints: series.map(({ attributes, row }) => ({
      startTime,
      endTime,
      attributes,
      value: {
        buckets: { boundaries: [...DURATION_BUCKETS], counts: table.bucketCounts(row) },
        sum: table.sum(row),
        count: table.count(row),
        min: table.min(row),
        max: table.max(row),
      },
    })),
  };
}

function activeData(open: readonly OpenSeries[], startTime: HrTime, endTime: HrTime): HttpServerMetricData {
  return {
    descriptor: { name: 'http.server.active_requests', description: 'Number of active HTTP server requests.', unit: '{request}', valueType: 0 as ValueType.INT, type: 'OBSERVABLE_UP_DOWN_COUNTER' },
    aggregationTemporality: 1,
    dataPointType: 3,
    isMonotonic: false,
    dataPoints: open.map(({ attributes, active }) => ({ startTime, endTime, attributes, value: active })),
  };
}

/** Now as OpenTelemetry's `[seconds, nanoseconds]` since the epoch. */
function hrNow(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))];
}
