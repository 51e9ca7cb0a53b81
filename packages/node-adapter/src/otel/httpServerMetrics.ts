import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Attributes, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import type { Registry } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { DURATION_BUCKETS } from '../durationBuckets.js';
import { subscribeOpen, subscribeRelease, type ConnectionOpenMessage, type ConnectionReleaseMessage } from '@lifeline/node-adapter';
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

const optionRules = {
  registry: option.custom(
    'a registry or what instrument() returned',
    (v) => isRegistryLike(v) || (typeof v === 'object' && v !== null && isRegistryLike((v as { registry?: unknown }).registry)),
  ),
  route: option.function('a function (request) => route'),
};

function isRegistryLike(value: unknown): value is Registry<any> {
  const r = value as Partial<Registry> | null | undefined;
  return typeof r?.open === 'function' && typeof r.dispatch === 'function';
}

/** Methods the conventions name; any other is recorded as `_OTHER`, so a client cannot mint series. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

/** A level of the attribute-set cache: each key narrows the combination, the last level holds the sets. */
type Level = Map<unknown, unknown>;

function sub(level: Level, key: unknown): Level {
  let next = level.get(key) as Level | undefined;
  if (next === undefined) level.set(key, (next = new Map()));
  return next;
}

/** What is remembered of a request between its open and its release. */
interface Pending {
  readonly start: number;
  /** The request's attribute set for `active_requests`, and the base of the duration's. */
  readonly set: OpenSet;
  readonly route: string | undefined;
}

/** One attribute combination of `active_requests` and how many requests are in it now. */
interface OpenSet {
  readonly attributes: Attributes;
  active: number;
}

/**
 * Records the OpenTelemetry HTTP server metrics for every request Lifeline
 * tracks: `http.server.request.duration` (histogram, seconds, the advised
 * buckets) and `http.server.active_requests` (an observable up-down counter:
 * a request moves a plain number, the SDK reads the sums when it collects), with
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
  const o: HttpServerMetricsOptions = checkOptions('recordHttpServerMetrics', options, optionRules) ?? {};
  const only = o.registry === undefined ? undefined : isRegistryLike(o.registry) ? o.registry : o.registry.registry;
  const route = o.route;
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
  const openList: OpenSet[] = [];
  const observeActive = (result: ObservableResult) => {
    for (const set of openList) result.observe(set.active, set.attributes);
  };
  active.addCallback(observeActive);
  // Keyed by the open message's target, so a release never needs an id map and a lost one frees itself.
  const pending = new WeakMap<object, Pending>();
  // One attribute object per distinct combination, made once: recording a request allocates none of them.
  const openSets: Level = new Map();
  const releaseSets: Level = new Map();

  const onOpen = (message: ConnectionOpenMessage) => {
    if (only !== undefined && message.registry !== only) return;
    let method: string | undefined;
    let url: string | undefined;
    let scheme: 'http' | 'https';
    let version: string;
    if (message.transport === 'http2') {
      const headers = message.headers;
      method = headers?.[':method'] as string | undefined;
      url = headers?.[':path'] as string | undefined;
      const given = headers?.[':scheme'];
      scheme = given === 'http' || given === 'https' ? given : encrypted((message.target as ServerHttp2Stream).session?.socket);
      version = '2';
    } else {
      const req = (message.target as Partial<ServerResponse>).req;
      if (req === undefined) return; // a taken-over socket: not an HTTP request
      method = req.method;
      url = req.url;
      scheme = encrypted(req.socket);
      version = req.httpVersion;
    }
    const known = method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
    const level = sub(sub(openSets, known), scheme);
    let set = level.get(version) as OpenSet | undefined;
    if (set === undefined) {
      set = { attributes: Object.freeze({ 'http.request.method': known, 'url.scheme': scheme, 'network.protocol.version': version }), active: 0 };
      level.set(version, set);
      openList.push(set);
    }
    set.active++;
    pending.set(message.target, { start: performance.now(), set, route: route === undefined ? undefined : route({ method, url }) });
  };

  const onRelease = (message: ConnectionReleaseMessage) => {
    const request = pending.get(message.target);
    if (request === undefined) return;
    pending.delete(message.target);
    request.set.active--;
    const outcome = message.outcome ?? 'released-elsewhere';
    const status = statusOf(message);
    const event = message.event;
    const errorType = outcome === 'finished' ? undefined : event.type === 'CLOSE' || event.type === 'ERROR' ? event.reason : '_OTHER';
    const level = sub(sub(sub(sub(releaseSets, request.set), request.route), outcome), status);
    let attributes = level.get(errorType) as Attributes | undefined;
    if (attributes === undefined) {
      const made: Attributes = { ...request.set.attributes, 'lifeline.outcome': outcome };
      if (status !== undefined) made['http.response.status_code'] = status;
      if (request.route !== undefined) made['http.route'] = request.route;
      if (errorType !== undefined) made['error.type'] = errorType;
      attributes = Object.freeze(made);
      level.set(errorType, attributes);
    }
    duration.record((performance.now() - request.start) / 1000, attributes);
  };

  const unsubscribeOpen = subscribeOpen(onOpen);
  const unsubscribeRelease = subscribeRelease(onRelease);
  return {
    stop() {
      unsubscribeOpen();
      unsubscribeRelease();
      active.removeCallback(observeActive);
    },
  };
}

function encrypted(socket: unknown): 'http' | 'https' {
  return (socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http';
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
