import { Counter, Gauge, register as globalRegister, type Registry as PromRegistry } from 'prom-client';
import type { ConnectionInfo, ReleasedConnection, Registry } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { checkRegistryArgument } from '../checkRegistry.js';
import { DURATION_BUCKETS } from '../durationBuckets.js';
import { HistogramTable } from '../histogramTable.js';
import { AggregatedCounter, AggregatedHistogram, asPromMetric, type ReleaseLabels } from './aggregatedMetrics.js';
import { checkOptionsArgument } from '../invalidArgument.js';

/** Options of {@link collectPrometheusMetrics}. */
export interface PrometheusCollectorOptions {
  /** The prom-client registry the metrics join. Default: prom-client's global `register` (what `AggregatorRegistry` reads in a cluster). */
  register?: PromRegistry;
}

/** A running collector. */
export interface PrometheusCollector {
  /**
   * Counts one stale connection in `lifeline_stale_connections_total`: pass it
   * as `startWatchdog`'s `onStale`.
   * @example `startWatchdog(registry, { idleTimeout: 30_000, onStale: collector.onStale })`
   */
  readonly onStale: (connection: ConnectionInfo<any>) => void;
  /** Stops counting releases and removes the metrics from the prom-client registry. */
  stop(): void;
}

/** The metric names, in one place: a dashboard's queries are written against these. */
export const metricNames = {
  inFlight: 'lifeline_connections_in_flight',
  released: 'lifeline_connections_released_total',
  duration: 'lifeline_connection_duration_seconds',
  stale: 'lifeline_stale_connections_total',
} as const;

const optionRules = {
  register: option.custom("a prom-client Registry (new Registry() or prom-client's register)", (v) => typeof (v as PromRegistry | null)?.registerMetric === 'function'),
};

/** In-flight states: the ones a connection can be counted in at scrape time. */
const IN_FLIGHT_STATES = ['open', 'streaming'] as const;

/** The label value of a `finished` connection's reason: it had none. */
const NO_REASON = 'none';

/**
 * Exports a registry's connections to Prometheus through `prom-client`:
 *
 * - `lifeline_connections_in_flight{transport,state}`: a gauge read from the registries at scrape time;
 * - `lifeline_connections_released_total{transport,outcome,reason}`: every release, `reason` being the
 *   ending's (`aborted`, `reset`, `timeout`, ...) or `none` for `finished`;
 * - `lifeline_connection_duration_seconds{transport,outcome}`: a histogram (the HTTP conventions' buckets)
 *   of open-to-release time on the registry's clock;
 * - `lifeline_stale_connections_total`: what the watchdog ended, when given {@link PrometheusCollector.onStale}.
 *
 * A release costs three map lookups and one update of a typed array (its
 * count, sum and bucket); prom-client is handed the aggregated values only
 * when it scrapes, so no prom-client call is made per request.
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * import { collectPrometheusMetrics } from '@lifeline/node-adapter/prometheus';
 * const { registry } = instrument(server);
 * const collector = collectPrometheusMetrics(registry);
 * startWatchdog(registry, { idleTimeout: 30_000, onStale: collector.onStale });
 * metricsServer.on('request', async (req, res) => res.end(await register.metrics()));
 * ```
 */
export function collectPrometheusMetrics(
  registries: Registry<any> | readonly Registry<any>[],
  options?: PrometheusCollectorOptions,
): PrometheusCollector {
  const list: readonly Registry<any>[] = Array.isArray(registries) ? registries : [registries as Registry<any>];
  for (const r of list) checkRegistryArgument(r, 'collectPrometheusMetrics');
  checkOptionsArgument('collectPrometheusMetrics', options);
  const register = (checkOptions('collectPrometheusMetrics', options, optionRules) as { register?: PromRegistry } | undefined)?.register ?? globalRegister;

  const transportsSeen = new Set<string>();
  const inFlight = new Gauge({
    name: metricNames.inFlight,
    help: 'Connections Lifeline tracks right now, by transport and state.',
    labelNames: ['transport', 'state'] as const,
    registers: [register],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const r of list) {
        for (const c of r.list()) {
          transportsSeen.add(c.transport);
          const key = `${c.transport}\u0000${c.state}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      // A transport once seen keeps its zero series, so "back to 0" is visible rather than absent.
      for (const transport of transportsSeen) {
        for (const state of IN_FLIGHT_STATES) this.set({ transport, state }, counts.get(`${transport}\u0000${state}`) ?? 0);
      }
    },
  });
  // A release updates one row of this table; prom-client reads the rows only when it scrapes (aggregatedMetrics.ts).
  const table = new HistogramTable(DURATION_BUCKETS);
  const rowLabels: ReleaseLabels[] = [];
  const released = new AggregatedCounter(metricNames.released, 'Connections released, each exactly once, by transport, outcome and reason.', table, rowLabels);
  const duration = new AggregatedHistogram(metricNames.duration, 'Time from open to release of each connection, in seconds.', table, rowLabels);
  register.registerMetric(asPromMetric(released));
  register.registerMetric(asPromMetric(duration));
  const stale = new Counter({
    name: metricNames.stale,
    help: 'Connections the watchdog found stale and ended.',
    registers: [register],
  });

  // transport → outcome → reason → row: a release allocates no label object or key string.
  const rows = new Map<string, Map<string, Map<string, number>>>();
  const onRelease = (c: ReleasedConnection<unknown>) => {
    const event = c.event;
    const reason = event.type === 'CLOSE' || event.type === 'ERROR' ? event.reason : NO_REASON;
    let byOutcome = rows.get(c.transport);
    if (byOutcome === undefined) {
      transportsSeen.add(c.transport);
      rows.set(c.transport, (byOutcome = new Map()));
    }
    let byReason = byOutcome.get(c.outcome);
    if (byReason === undefined) byOutcome.set(c.outcome, (byReason = new Map()));
    let row = byReason.get(reason);
    if (row === undefined) {
      row = table.addRow();
      byReason.set(reason, row);
      rowLabels.push({ transport: c.transport, outcome: c.outcome, reason });
    }
    table.record(row, c.duration / 1000);
  };
  const unsubscribes = list.map((r) => r.onRelease(onRelease));

  return {
    onStale: () => stale.inc(),
    stop() {
      for (const unsubscribe of unsubscribes) unsubscribe();
      for (const name of Object.values(metricNames)) register.removeSingleMetric(name);
    },
  };
}
