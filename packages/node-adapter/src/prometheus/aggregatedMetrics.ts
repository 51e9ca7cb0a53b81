/**
 * prom-client metrics whose values are aggregated by the collector itself (a
 * {@link HistogramTable}) and handed over only when prom-client reads them.
 *
 * A prom-client `Registry` needs of a metric its `name`, `help`, `type`, an
 * `aggregator` (what `AggregatorRegistry` combines workers' values with), a
 * `get()` returning `{ name, help, type, values, aggregator }` and a `reset()`;
 * the text format and `getMetricsAsJSON` are built from `get()` alone.
 * prom-client registers its own cluster aggregates the same way (plain objects
 * with a `get()`). Its typings name only its four classes, hence
 * {@link asPromMetric}.
 */
import type { Metric } from 'prom-client';
import { DURATION_BUCKETS } from '../durationBuckets.js';
import type { HistogramTable } from '../histogramTable.js';

/** The labels of one row of the collector's table. */
export interface ReleaseLabels {
  readonly transport: string;
  readonly outcome: string;
  readonly reason: string;
}

interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Value[];
  aggregator: 'sum';
}

abstract class AggregatedMetric {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';

  constructor(
    /** Not readonly: prom-client renames counters for the OpenMetrics format. */
    public name: string,
    readonly help: string,
    protected readonly table: HistogramTable,
    protected readonly rowLabels: readonly ReleaseLabels[],
  ) {}

  protected abstract values(): Value[];

  get(): Promise<MetricSnapshot> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator });
  }

  /**
   * What `register.resetMetrics()` calls: the counts start again from zero and,
   * as with prom-client's own metrics, a series is absent until its next value.
   * (A row is added at its first release, so only a reset leaves one empty.)
   */
  reset(): void {
    this.table.reset();
  }
}

/** `lifeline_connections_released_total{transport,outcome,reason}`: one series per row, its count. */
export class AggregatedCounter extends AggregatedMetric {
  readonly type = 'counter';

  protected values(): Value[] {
    const out: Value[] = [];
    this.rowLabels.forEach((labels, row) => {
      const value = this.table.count(row);
      if (value > 0) out.push({ value, labels: { transport: labels.transport, outcome: labels.outcome, reason: labels.reason } });
    });
    return out;
  }
}

/**
 * `lifeline_connection_duration_seconds{transport,outcome}`: the rows merged
 * across reasons, written as prom-client writes a histogram (cumulative
 * `_bucket` series with `le` first, `+Inf`, `_sum`, `_count`).
 */
export class AggregatedHistogram extends AggregatedMetric {
  readonly type = 'histogram';

  protected values(): Value[] {
    const series = new Map<string, { transport: string; outcome: string; counts: number[]; sum: number; count: number }>();
    this.rowLabels.forEach((labels, row) => {
      if (this.table.count(row) === 0) return;
      const key = `${labels.transport}\u0000${labels.outcome}`;
      let s = series.get(key);
      if (s === undefined) series.set(key, (s = { transport: labels.transport, outcome: labels.outcome, counts: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
      const counts = this.table.bucketCounts(row);
      for (let i = 0; i < counts.length; i++) s.counts[i]! += counts[i]!;
      s.sum += this.table.sum(row);
      s.count += this.table.count(row);
    });
    const out: Value[] = [];
    for (const { transport, outcome, counts, sum, count } of series.values()) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += counts[i]!;
        out.push({ value: cumulative, labels: { le, transport, outcome }, metricName: `${this.name}_bucket` });
      });
      out.push({ value: count, labels: { le: '+Inf', transport, outcome }, metricName: `${this.name}_bucket` });
      out.push({ value: sum, labels: { transport, outcome }, metricName: `${this.name}_sum` });
      out.push({ value: count, labels: { transport, outcome }, metricName: `${this.name}_count` });
    }
    return out;
  }
}

/** The one cast: the object does what prom-client's `Registry` asks of a metric (see the module comment). */
export function asPromMetric(metric: AggregatedMetric): Metric {
  return metric as unknown as Metric;
}
