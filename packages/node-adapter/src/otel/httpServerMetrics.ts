import type { Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import { DURATION_BUCKETS } from '../durationBuckets.js';
import { invalidArgument } from '../invalidArgument.js';
import { checkHttpServerMetricsOptions, watchHttpRequests, type HttpServerMetricsOptions } from './httpRequestSeries.js';

/** A running recorder. */
export interface HttpServerMetrics {
  /** Unsubscribes; requests already open are no longer recorded. */
  stop(): void;
}

/**
 * Records the OpenTelemetry HTTP server metrics for every request Lifeline
 * tracks, through any `Meter` of `@opentelemetry/api`:
 * `http.server.request.duration` (histogram, seconds, the advised buckets) and
 * `http.server.active_requests` (an observable up-down counter: a request
 * moves a plain number, the SDK reads the sums when it collects), with
 * `http.request.method`, `url.scheme`, `network.protocol.version`,
 * `http.response.status_code` when a status was sent, `error.type` for every
 * ending other than `finished` (its reason: `aborted`, `reset`, `cancelled`,
 * `timeout`, ...) and `lifeline.outcome`. A request that leaves mid-body or
 * waits in a pipelined queue when its socket dies is recorded like any other.
 *
 * Each request costs one `histogram.record` at its release: the API has no
 * way to hand a meter pre-aggregated values, so this is the SDK's cost per
 * request (about 2–3 µs in `@opentelemetry/sdk-metrics` 2.x, which hashes the
 * attribute set on each call). With the SDK, {@link createHttpServerMetricProducer}
 * exports the same metrics for a fraction of that.
 *
 * It listens on the `lifeline:connection:*` diagnostics channels, so a server
 * pays nothing for it until it is started, and reads method and status from
 * the request and response themselves. Sockets taken over by `upgrade` or
 * `CONNECT` are not HTTP requests and are not recorded here.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { recordHttpServerMetrics } from '@lifeline/node-adapter/otel';
 * const instrumentation = instrument(server);
 * recordHttpServerMetrics(metrics.getMeter('my-server'), { registry: instrumentation });
 * ```
 */
export function recordHttpServerMetrics(meter: Meter, options?: HttpServerMetricsOptions): HttpServerMetrics {
  if (typeof (meter as Partial<Meter> | null)?.createHistogram !== 'function') {
    throw invalidArgument('recordHttpServerMetrics', 'meter', 'an OpenTelemetry Meter', meter, "Pass metrics.getMeter('name') from @opentelemetry/api.");
  }
  const watched = checkHttpServerMetricsOptions('recordHttpServerMetrics', options);
  const duration: Histogram = meter.createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  // Observed, not added to: a request moves a plain number, and the SDK reads the sums when it collects.
  const active = meter.createObservableUpDownCounter('http.server.active_requests', {
    description: 'Number of active HTTP server requests.',
    unit: '{request}',
  });
  const watch = watchHttpRequests(watched, {
    newRow: () => -1, // the SDK keeps the rows
    release: (series, seconds) => duration.record(seconds, series.attributes),
  });
  const observeActive = (result: ObservableResult) => {
    for (const set of watch.open) result.observe(set.active, set.attributes);
  };
  active.addCallback(observeActive);
  return {
    stop() {
      watch.stop();
      active.removeCallback(observeActive);
    },
  };
}
