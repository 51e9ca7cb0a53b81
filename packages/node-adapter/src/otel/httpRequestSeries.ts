/**
 * What both OpenTelemetry exporters share: following each HTTP request from
 * the `lifeline:connection:open` to the `release` channel, and naming it by an
 * attribute set made once per combination, so a request allocates none.
 */
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Attributes } from '@opentelemetry/api';
import type { Registry } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { subscribeOpen, subscribeRelease, type ConnectionOpenMessage, type ConnectionReleaseMessage } from '@lifeline/node-adapter';
import { checkOptionsArgument } from '../invalidArgument.js';
import { PendingRequests } from './pendingRequests.js';

/** What a `route` function is given: read from the request when it opened. */
export interface RouteRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
}

/** Options of {@link recordHttpServerMetrics} and {@link createHttpServerMetricProducer}. */
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

/** One attribute combination of `active_requests` and how many requests are in it now. */
export interface OpenSeries {
  readonly attributes: Attributes;
  active: number;
  /** Its place in {@link HttpRequestWatch.open}. */
  readonly index: number;
}

/** One attribute combination of `request.duration`, and the row its requests are aggregated in (if the exporter keeps rows). */
export interface ReleaseSeries {
  readonly attributes: Attributes;
  readonly row: number;
}

/** Where the requests go: the exporter's own recording. */
export interface RequestSink {
  /** Called once for each new release combination: the row its requests will be recorded in. */
  newRow(): number;
  /** Called at each request's release with its series and its duration in seconds. */
  release(series: ReleaseSeries, seconds: number): void;
}

export interface HttpRequestWatch {
  /** Every open combination seen so far, with its count of requests in flight. */
  readonly open: readonly OpenSeries[];
  /** Every release combination seen so far. */
  readonly releases: readonly ReleaseSeries[];
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

/** The options, checked: which registry's requests to follow (all when undefined), and the route function. */
export interface WatchedRequests {
  readonly only: Registry<any> | undefined;
  readonly route: HttpServerMetricsOptions['route'];
}

/** Checks the options, naming `where` in errors. */
export function checkHttpServerMetricsOptions(where: string, options: HttpServerMetricsOptions | undefined): WatchedRequests {
  checkOptionsArgument(where, options);
  const o: HttpServerMetricsOptions = checkOptions(where, options, optionRules) ?? {};
  return { only: o.registry === undefined ? undefined : isRegistryLike(o.registry) ? o.registry : o.registry.registry, route: o.route };
}

/** Follows every request of `watched` from its open to its release, into `sink`. */
export function watchHttpRequests({ only, route }: WatchedRequests, sink: RequestSink): HttpRequestWatch {
  const openList: OpenSeries[] = [];
  const releaseList: ReleaseSeries[] = [];
  // Per registry, by connection id: following a request allocates nothing.
  const pendingByRegistry = new WeakMap<Registry<unknown>, PendingRequests>();
  // One series per distinct combination, made once: recording a request allocates none of them.
  const openSets: Level = new Map();
  const releaseSets: Level = new Map();
  // The combination of the last request opened and released, and its series (a one-entry cache in front of the maps).
  let lastOpen: OpenSeries | undefined;
  let lastOpenMethod: string | undefined;
  let lastOpenScheme: string | undefined;
  let lastOpenVersion: string | undefined;
  let lastRelease: ReleaseSeries | undefined;
  let lastReleaseSet: OpenSeries | undefined;
  let lastReleaseRoute: string | undefined;
  let lastReleaseOutcome: string | undefined;
  let lastReleaseStatus: number | undefined;
  let lastReleaseErrorType: string | undefined;

  /** The series of an open combination, made the first time it is seen. */
  const openSeries = (method: string | undefined, scheme: 'http' | 'https', version: string): OpenSeries => {
    const known = method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
    const level = sub(sub(openSets, known), scheme);
    let set = level.get(version) as OpenSeries | undefined;
    if (set === undefined) {
      set = { attributes: Object.freeze({ 'http.request.method': known, 'url.scheme': scheme, 'network.protocol.version': version }), active: 0, index: openList.length };
      level.set(version, set);
      openList.push(set);
    }
    return set;
  };

  /** The series of a release combination, made (and given its row) the first time it is seen. */
  const releaseSeries = (set: OpenSeries, route: string | undefined, outcome: string, status: number | undefined, errorType: string | undefined): ReleaseSeries => {
    const level = sub(sub(sub(sub(releaseSets, set), route), outcome), status);
    let series = level.get(errorType) as ReleaseSeries | undefined;
    if (series === undefined) {
      const made: Attributes = { ...set.attributes, 'lifeline.outcome': outcome };
      if (status !== undefined) made['http.response.status_code'] = status;
      if (route !== undefined) made['http.route'] = route;
      if (errorType !== undefined) made['error.type'] = errorType;
      series = { attributes: Object.freeze(made), row: sink.newRow() };
      level.set(errorType, series);
      releaseList.push(series);
    }
    return series;
  };

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
    let set: OpenSeries;
    // Most requests fall in the combination of the one before: three comparisons instead of four lookups.
    // (The scheme is never undefined, so the first request cannot match the empty cache.)
    if (method === lastOpenMethod && scheme === lastOpenScheme && version === lastOpenVersion) set = lastOpen!;
    else {
      set = openSeries(method, scheme, version);
      lastOpenMethod = method;
      lastOpenScheme = scheme;
      lastOpenVersion = version;
      lastOpen = set;
    }
    set.active++;
    let pending = pendingByRegistry.get(message.registry);
    if (pending === undefined) pendingByRegistry.set(message.registry, (pending = new PendingRequests()));
    pending.add(message.id, performance.now(), set.index, route === undefined ? undefined : route({ method, url }));
  };

  const onRelease = (message: ConnectionReleaseMessage) => {
    const pending = pendingByRegistry.get(message.registry);
    if (pending === undefined || !pending.take(message.id)) return;
    const seconds = (performance.now() - pending.start) / 1000;
    const set = openList[pending.set]!;
    const route = pending.route;
    set.active--;
    const outcome = message.outcome ?? 'released-elsewhere';
    const status = statusOf(message);
    const event = message.event;
    const errorType = outcome === 'finished' ? undefined : event.type === 'CLOSE' || event.type === 'ERROR' ? event.reason : '_OTHER';
    let series: ReleaseSeries;
    // As at open: the combination of the request before, checked first (the set is never undefined).
    if (
      set === lastReleaseSet &&
      route === lastReleaseRoute &&
      outcome === lastReleaseOutcome &&
      status === lastReleaseStatus &&
      errorType === lastReleaseErrorType
    ) {
      series = lastRelease!;
    } else {
      series = releaseSeries(set, route, outcome, status, errorType);
      lastReleaseSet = set;
      lastReleaseRoute = route;
      lastReleaseOutcome = outcome;
      lastReleaseStatus = status;
      lastReleaseErrorType = errorType;
      lastRelease = series;
    }
    sink.release(series, seconds);
  };

  const unsubscribeOpen = subscribeOpen(onOpen);
  const unsubscribeRelease = subscribeRelease(onRelease);
  return {
    open: openList,
    releases: releaseList,
    stop() {
      unsubscribeOpen();
      unsubscribeRelease();
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
