import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Attributes, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { z } from 'zod';
import type { Registry } from '@lifeline/core';
import { functionOption, parseOptions } from '@lifeline/core/internal';
import { DURATION_BUCKETS } from '../durationBuckets.js';
import { subscribeOpen, subscribeRelease, type ConnectionOpenMessage, type ConnectionReleaseMessage } from '../diagnostics.js';
import { checkOptionsArgument, invalidArgument } from '../invalidArgument.js';


/** What a `route` function is given: read from the request when it opened. */
export interface RouteRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
}

/** Options of {@link recordHttpServerMetrics}. */
export interface HttpServerMetricsOptions {
  /** Record only this registry's connections (or an `instrument` result's). Default: every instrumented server in the process. */
  registry?: Registry<any> | { readonly registry: Registry<any> };
  /**
   * Sets `http.route` from the request. It must return a template
   * (`/users/:id`), never the raw path: each distinct value is a new series.
   * Default: no `http.route`, so cardinality stays bounded.
   */
  route?: (request: RouteRequest) => string | undefined;
}

/** A running recorder. */
export interface HttpServerMetrics {
  /** Unsubscribes; requests already open are no longer recorded. */
  stop(): void;
}

const optionsSchema = z.strictObject({
  registry: z
    .custom<HttpServerMetricsOptions['registry']>(
      (v) => isRegistryLike(v) || (typeof v === 'object' && v !== null && isRegistryLike((v as { registry?: unknown }).registry)),
      { message: 'expected a registry or what instrument() returned' },
    )
    .optional(),
  route: functionOption<(request: RouteRequest) => string | undefined>('a function (request) => route').optional(),
});

function isRegistryLike(value: unknown): value is Registry<any> {
  const r = value as Partial<Registry> | null | undefined;
  return typeof r?.open === 'function' && typeof r.dispatch === 'function';
}

/** Methods the conventions name; any other is recorded as `_OTHER`, so a client cannot mint series. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

/** What is remembered of a request between its open and its release. */
interface Pending {
  readonly start: number;
  /** Shared by `active_requests`' +1 and −1, and the base of the duration's attributes. */
  readonly attributes: Attributes;
  readonly route: string | undefined;
}

/**
 * Records the OpenTelemetry HTTP server metrics for every request Lifeline
 * tracks: `http.server.request.duration` (histogram, seconds, the advised
 * buckets) and `http.server.active_requests` (up-down counter), with
 * `http.request.method`, `url.scheme`, `network.protocol.version`,
 * `http.response.status_code` when a status was sent, `error.type` for every
 * ending other than `finished` (its reason: `aborted`, `reset`, `cancelled`,
 * `timeout`, ...) and `lifeline.outcome`. A request that leaves mid-body or
 * waits in a pipelined queue when its socket dies is recorded like any other.
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
  checkOptionsArgument('recordHttpServerMetrics', options);
  const o = parseOptions(optionsSchema, options, 'recordHttpServerMetrics');
  const only = o.registry === undefined ? undefined : isRegistryLike(o.registry) ? o.registry : o.registry.registry;
  const route = o.route;
  const duration: Histogram = meter.createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  const active: UpDownCounter = meter.createUpDownCounter('http.server.active_requests', {
    description: 'Number of active HTTP server requests.',
    unit: '{request}',
  });
  // Keyed by the open message's target, so a release never needs an id map and a lost one frees itself.
  const pending = new WeakMap<object, Pending>();

  const onOpen = (message: ConnectionOpenMessage) => {
    if (only !== undefined && message.registry !== only) return;
    const request = requestOf(message);
    if (request === undefined) return;
    const attributes: Attributes = {
      'http.request.method': knownMethod(request.method),
      'url.scheme': request.scheme,
      'network.protocol.version': request.version,
    };
    active.add(1, attributes);
    pending.set(message.target, {
      start: performance.now(),
      attributes,
      route: route === undefined ? undefined : route({ method: request.method, url: request.url }),
    });
  };

  const onRelease = (message: ConnectionReleaseMessage) => {
    const request = pending.get(message.target);
    if (request === undefined) return;
    pending.delete(message.target);
    active.add(-1, request.attributes);
    const attributes: Attributes = { ...request.attributes, 'lifeline.outcome': message.outcome ?? 'released-elsewhere' };
    const status = statusOf(message);
    if (status !== undefined) attributes['http.response.status_code'] = status;
    if (request.route !== undefined) attributes['http.route'] = request.route;
    if (message.outcome !== 'finished') {
      const event = message.event;
      attributes['error.type'] = event.type === 'CLOSE' || event.type === 'ERROR' ? event.reason : '_OTHER';
    }
    duration.record((performance.now() - request.start) / 1000, attributes);
  };

  const unsubscribeOpen = subscribeOpen(onOpen);
  const unsubscribeRelease = subscribeRelease(onRelease);
  return {
    stop() {
      unsubscribeOpen();
      unsubscribeRelease();
    },
  };
}

interface RequestFacts {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly scheme: 'http' | 'https';
  readonly version: string;
}

function requestOf(message: ConnectionOpenMessage): RequestFacts | undefined {
  if (message.transport === 'http2') {
    const stream = message.target as ServerHttp2Stream;
    const headers = message.headers;
    const scheme = headers?.[':scheme'] === 'http' ? 'http' : headers?.[':scheme'] === 'https' ? 'https' : encrypted(stream.session?.socket);
    return { method: headers?.[':method'] as string | undefined, url: headers?.[':path'] as string | undefined, scheme, version: '2' };
  }
  const req = (message.target as Partial<ServerResponse>).req;
  if (req === undefined) return undefined; // a taken-over socket: not an HTTP request
  return { method: req.method, url: req.url, scheme: encrypted(req.socket), version: req.httpVersion };
}

function encrypted(socket: unknown): 'http' | 'https' {
  return (socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http';
}

function knownMethod(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/** The status the client was sent, if any: a response that never sent headers has none. */
function statusOf(message: ConnectionReleaseMessage): number | undefined {
  if (message.transport === 'http2') {
    const status = (message.target as ServerHttp2Stream).sentHeaders?.[':status'];
    return typeof status === 'number' ? status : typeof status === 'string' ? Number(status) : undefined;
  }
  const res = message.target as ServerResponse;
  return res.headersSent ? res.statusCode : undefined;
}
