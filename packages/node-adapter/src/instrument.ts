import http, { type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders as Http2Headers, ServerHttp2Stream } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { createRegistry, type Registry, type RegistryOptions } from '@lifeline/core';
import { checkOptions, option, registryOptionRules, type OptionIssue } from '@lifeline/core/internal';
import { kConnection, type Connection } from './connection.js';
import { AlreadyInstrumentedError } from './errors.js';
import { runFirst } from './firstListener.js';
import { registryOption } from './checkRegistry.js';
import { onClientError, trackHttp1 } from './http1.js';
import { trackServerStream } from './http2.js';
import { rememberSessions } from './http2Sessions.js';
import { checkOptionsArgument, invalidArgument, isFrameworkApp } from './invalidArgument.js';
import { trackSocket } from './socket.js';
import { connectionOf, type Trackable } from './track.js';

/** What `meta` receives for each request: the HTTP/1 request itself, or the HTTP/2 stream's pseudo-headers. */
export interface RequestInfo {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders | Http2Headers;
}

/** The registry options `instrument` takes to make its registry: listed once, for its type, its option rules and `registryFor`. */
const REGISTRY_OPTIONS = ['clock', 'journalSize', 'onListenerError', 'onRecord'] as const;
type RegistryOptionName = (typeof REGISTRY_OPTIONS)[number];

/** Options of {@link instrument}: with no `registry`, the registry options (`clock`, `journalSize`, `onListenerError`, `onRecord`) make a new one. */
export interface InstrumentOptions<M> extends Pick<RegistryOptions, RegistryOptionName> {
  /** The registry to use. Default: a new one made from the registry options given here. */
  registry?: Registry<M>;
  /** Metadata to keep with each connection. Default: none (cheapest). */
  meta?: (request: RequestInfo) => M;
  /** Also track sockets taken over by `upgrade` and `CONNECT` handlers. Default `true`. */
  upgrades?: boolean;
}

/** What {@link instrument} returns. */
export interface Instrumentation<M> {
  readonly registry: Registry<M>;
  /**
   * The connection of a request, response, stream or socket of this server:
   * one tracked in this instrumentation's `registry` (so it is a
   * `Connection<M>`), else `undefined`. Throws an `InvalidArgumentError` for anything but an object.
   * @example `const { meta } = instrumentation.registry.get(instrumentation.connectionOf(req)!.id)!`
   */
  connectionOf(target: Trackable): Connection<M> | undefined;
  /**
   * Stops tracking new requests. Connections already tracked are still tracked
   * to their end. The server can then be instrumented again. This is the only
   * way to stop: the adapter puts back a listener of its own that other code removes.
   * @example `instrumentation.detach(); // the server's later requests are not tracked`
   */
  detach(): void;
}

type AnyServer = HttpServer | HttpsServer | Http2Server | Http2SecureServer;

/** What a server's live instrumentation was made with: a second `instrument` call is judged against it. */
interface Instrumented {
  readonly instrumentation: Instrumentation<unknown>;
  readonly meta: unknown;
  readonly upgrades: boolean;
}
const instrumented = new WeakMap<AnyServer, Instrumented>();

const instrumentOptionRules = {
  registry: registryOption,
  meta: option.function('a function (request) => metadata'),
  upgrades: option.boolean(),
  // Checked here by createRegistry()'s rules, so that one error names every bad option.
  ...(Object.fromEntries(REGISTRY_OPTIONS.map((key) => [key, registryOptionRules[key]])) as Pick<typeof registryOptionRules, RegistryOptionName>),
};

function registryOptionsBesideARegistry(o: Readonly<Record<string, unknown>>): OptionIssue[] {
  if (o.registry === undefined) return [];
  return REGISTRY_OPTIONS.filter((key) => o[key] !== undefined).map((key) => ({
    option: key,
    message: 'give it to createRegistry(), not with an existing "registry"',
  }));
}

/** A new registry from the registry options given to `instrument`, checked already by the same rules. */
function registryFor<M>(options: InstrumentOptions<M>): Registry<M> {
  return createRegistry<M>(Object.fromEntries(REGISTRY_OPTIONS.map((key) => [key, options[key]])) as Pick<RegistryOptions, RegistryOptionName>);
}

function checkServer(server: unknown): asserts server is AnyServer {
  if (server instanceof http.Server || (typeof server === 'object' && server !== null && (isHttp2Server(server) || isHttpsServer(server)))) return;
  let fix = 'Pass the server made by http.createServer(), https.createServer(), http2.createServer() or http2.createSecureServer().';
  if (isFrameworkApp(server)) {
    const handler = typeof server === 'function' ? 'app' : 'app.callback()';
    fix = `Pass the http.Server the app runs on, not the app: instrument(app.listen(port)) or instrument(http.createServer(${handler})).`;
  }
  throw invalidArgument('instrument', 'server', 'an http.Server, https.Server or HTTP/2 server', server, fix);
}

/** The options of a second `instrument` call on one server that the live instrumentation does not honour. */
function conflictingOptions<M>(live: Instrumented, options: InstrumentOptions<M>): string[] {
  const names: string[] = [];
  if (options.registry !== undefined && options.registry !== live.instrumentation.registry) names.push('registry');
  if (options.meta !== undefined && options.meta !== live.meta) names.push('meta');
  if (options.upgrades !== undefined && options.upgrades !== live.upgrades) names.push('upgrades');
  // These would configure a new registry; the live one is made already.
  for (const key of REGISTRY_OPTIONS) if (options[key] !== undefined) names.push(key);
  return names;
}

/**
 * Whether `server` is an `https.Server`, without importing node:https (and TLS with it) when the module
 * loads: that import would cost every process a few milliseconds at startup, most of them serving plain
 * HTTP. A process that made an https.Server has loaded node:https already, so asking for it here is free.
 */
function isHttpsServer(server: object): server is HttpsServer {
  return server instanceof process.getBuiltinModule('node:https').Server;
}

/**
 * Whether HTTP/1.1 requests can reach this HTTP/2 server. Node falls back to HTTP/1.1 on a connection
 * that did not negotiate h2 only with `allowHTTP1: true`, read at each connection from the options it
 * keeps under an own symbol-keyed property (`Symbol(options)`, on Node 20 to 26). Where that is not
 * found, the answer is yes: listening for requests that never come costs time, missing some would leak.
 */
function acceptsHttp1(server: Http2Server | Http2SecureServer): boolean {
  for (const key of Object.getOwnPropertySymbols(server)) {
    if (key.description !== 'options') continue;
    const serverOptions: unknown = (server as unknown as Record<symbol, unknown>)[key];
    if (typeof serverOptions === 'object' && serverOptions !== null) return (serverOptions as { allowHTTP1?: unknown }).allowHTTP1 === true;
  }
  return true;
}

function isHttp2Server(server: object): server is Http2Server | Http2SecureServer {
  for (let proto = Object.getPrototypeOf(server); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (name === 'Http2Server' || name === 'Http2SecureServer') return true;
  }
  return false;
}

/**
 * Tracks every request of an `http.Server`, `https.Server` or HTTP/2 server
 * (core API streams and compat requests alike), and, by default, sockets
 * taken over by `upgrade` and `CONNECT` handlers. Its listeners are
 * prepended, so `connectionOf(req)` works in handlers added with `on` (a
 * handler you `prependListener` after instrumenting runs first and sees no
 * connection yet; the request is tracked all the same). On 'request' (HTTP/1)
 * and 'stream' (HTTP/2) it rides in the first listener once requests flow:
 * `listeners(event)` shows the application's own, `rawListeners(event)` a
 * wrapper of the first, as `once` does (one listener instead of two makes
 * Node's `emit` cheaper on every request).
 *
 * Instrumenting a server that is instrumented already returns the same
 * instrumentation when the second call asks for nothing different (no
 * options, or the same `registry`, `meta` and `upgrades`); otherwise it throws
 * an `AlreadyInstrumentedError` (`LIFELINE_ALREADY_INSTRUMENTED`). One server
 * never has two registries. After `detach()` it can be instrumented anew.
 * Only `detach()` stops the tracking: a listener of the adapter's that other
 * code removes while it is still needed (`server.removeAllListeners('request')`,
 * as engine.io does, or a removal by reference) is put back first, in a
 * microtask (before any I/O can bring a request).
 * Bad arguments throw at the call: an `InvalidArgumentError`
 * (`LIFELINE_INVALID_ARGUMENT`) for a `server` that is not a Node server (an
 * Express or Koa app included), an `InvalidOptionsError` for bad options.
 *
 * @example
 * ```ts
 * const server = http.createServer(app);
 * const { registry, connectionOf, detach } = instrument(server, { meta: (req) => ({ url: req.url }) });
 * registry.onRelease((c) => log.info({ url: c.meta?.url, outcome: c.outcome, ms: c.duration }));
 * ```
 */
export function instrument<M = unknown>(server: AnyServer, options: InstrumentOptions<M> = {}): Instrumentation<M> {
  checkServer(server);
  checkOptionsArgument('instrument', options);
  options ??= {};
  checkOptions('instrument', options, instrumentOptionRules, registryOptionsBesideARegistry);
  const live = instrumented.get(server);
  if (live !== undefined) {
    const conflicts = conflictingOptions(live, options);
    if (conflicts.length === 0) return live.instrumentation as Instrumentation<M>;
    throw new AlreadyInstrumentedError(
      `instrument: this server is instrumented already, and the live instrumentation differs in ${conflicts.map((k) => `"${k}"`).join(', ')}. ` +
        'Use what the first instrument(server) call returned, or call its detach() before instrumenting again.',
      conflicts,
    );
  }
  const meta = options.meta as ((request: RequestInfo) => M) | undefined;
  const registry: Registry<M> = (options.registry as Registry<M> | undefined) ?? registryFor<M>(options);
  const cleanups: (() => void)[] = [];
  // Without `meta`, every request shares one options object: nothing is allocated per request.
  const plain = { registry };
  const optionsFor = (info: RequestInfo) => (meta === undefined ? plain : { registry, meta: meta(info) });

  if (isHttp2Server(server)) {
    // The compat API's 'request' is emitted from the server's own 'stream' listener, so this covers both.
    // The request info is built only when there is a `meta` to give it to.
    // The listeners return nothing: an event listener's return value makes `emit` check it for a promise.
    const onStream = (stream: ServerHttp2Stream, headers: Http2Headers) =>
      void trackServerStream(stream, meta === undefined ? plain : { registry, meta: meta({ method: headers[':method'], url: headers[':path'], headers }) }, headers);
    const listeners: Record<string, (...args: never[]) => unknown> = {};
    // With allowHTTP1, HTTP/1.1 requests reach the server as 'request' (or 'checkContinue' / 'checkExpectation')
    // without a stream. A 'request' listener turns on Node's compat layer for every stream, which answers some
    // (an unmet Expect: 417, CONNECT: 405) before a core-API application can: so listen only while the app does.
    // Without allowHTTP1 none ever comes, and a second 'request' listener would cost every compat request.
    if (acceptsHttp1(server)) {
      const onHttp1Request = (req: IncomingMessage, res: ServerResponse) => {
        if (req.httpVersionMajor === 1) trackHttp1(req, res, optionsFor(req));
      };
      Object.assign(listeners, { request: onHttp1Request, checkContinue: onHttp1Request, checkExpectation: onHttp1Request });
      // 'upgrade' and 'connect' sockets come only from HTTP/1.1 as well.
      if (options.upgrades !== false) {
        // 'connect' is shared with the compat API's CONNECT (request, response): only HTTP/1.1 hands over a socket.
        const { upgrade, connect } = socketTakeoverListeners(registry, meta);
        listeners.upgrade = upgrade;
        listeners.connect = (req: IncomingMessage, socket: Duplex) => (req.httpVersionMajor === 1 ? connect(req, socket) : undefined);
      }
    }
    // 'stream' is where every stream arrives: tracked first, folded into the first listener where it can be.
    cleanups.push(runFirst(server, 'stream', onStream));
    followApplicationListeners(server, listeners, cleanups);
    cleanups.push(rememberSessions(server));
  } else {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void trackHttp1(req, res, optionsFor(req));
    // Requests routed to the events after 'request' never reach it; listening to them changes Node's
    // behaviour (no automatic 100 Continue / 417), so on those the adapter follows the application's listeners.
    const listeners: Record<string, (...args: never[]) => unknown> = {
      checkContinue: onRequest,
      checkExpectation: onRequest,
      clientError: onClientError,
    };
    if (options.upgrades !== false) Object.assign(listeners, socketTakeoverListeners(registry, meta));
    cleanups.push(runFirst(server, 'request', onRequest));
    followApplicationListeners(server, listeners, cleanups);
  }

  const instrumentation: Instrumentation<M> = {
    registry,
    connectionOf(target) {
      const connection = connectionOf(target);
      // Only this registry's connections are Connection<M>; another registry's would be typed wrong.
      return connection?.registry === registry ? (connection as Connection<M>) : undefined;
    },
    detach() {
      // A second detach() finds no cleanups left; a stale one (the server instrumented anew since) leaves the new one alone.
      for (const cleanup of cleanups.splice(0)) cleanup();
      if (instrumented.get(server)?.instrumentation === instrumentation) instrumented.delete(server);
    },
  };
  instrumented.set(server, { instrumentation: instrumentation as Instrumentation<unknown>, meta, upgrades: options.upgrades !== false });
  return instrumentation;
}

/**
 * Listeners that track sockets taken over by `upgrade` (WebSocket and others)
 * and `CONNECT` handlers. The request is tagged with the socket's connection
 * too, so `connectionOf(req)` works in those handlers as in 'request' ones.
 */
function socketTakeoverListeners<M>(registry: Registry<M>, meta: ((request: RequestInfo) => M) | undefined) {
  const onUpgrade = (req: IncomingMessage, socket: Duplex) => {
    const transport = String(req.headers.upgrade).toLowerCase() === 'websocket' ? 'websocket' : 'upgrade';
    tagRequest(req, trackSocket(socket, { registry, transport, meta: meta?.(req) }));
  };
  const onConnect = (req: IncomingMessage, socket: Duplex) => tagRequest(req, trackSocket(socket, { registry, transport: 'tcp', meta: meta?.(req) }));
  return { upgrade: onUpgrade, connect: onConnect };
}

function tagRequest(req: IncomingMessage, connection: Connection<unknown>): void {
  (req as IncomingMessage & { [kConnection]?: Connection<unknown> })[kConnection] = connection;
}

/**
 * Node changes behaviour when some events have listeners: with none, upgrade
 * requests go to 'request', CONNECT sockets are closed, and `Expect` headers
 * are answered automatically. So for those events the adapter listens only
 * while the application does, and keeps it that way as the application adds
 * and removes its own listeners. (Where requests arrive, 'request' or
 * 'stream', `runFirst` tracks whether the application listens or not.)
 *
 * Only `detach()` stops the tracking: a listener of the adapter's that other
 * code removes (by reference, or with `removeAllListeners(event)`) while it
 * is still wanted is put back first again, in a microtask.
 */
function followApplicationListeners(
  server: EventEmitter,
  ours: Record<string | symbol, (...args: never[]) => unknown>,
  cleanups: (() => void)[],
): void {
  // Every listener of ours is under a string name; a symbol-named event finds none and returns at once.
  // After a removal, a listener of ours still wanted is put back in a microtask (before any I/O can emit):
  // `removeAllListeners(event)` walks the emitter's own array while it removes, and a listener prepended
  // into it meanwhile would shift an application listener out of the walk. One no longer wanted goes at once.
  let attached = true;
  const sync = (event: string | symbol, adding: boolean, removing = false) => {
    const listener = ours[event];
    if (listener === undefined) return;
    const all = server.listeners(event);
    const present = all.includes(listener);
    const wanted = all.length - (present ? 1 : 0) + (adding ? 1 : 0) > 0;
    if (wanted && !present) {
      if (removing) queueMicrotask(() => attached && sync(event, false));
      else server.prependListener(event, listener as never);
    }
    if (!wanted && present) server.removeListener(event, listener as never);
  };
  const onNewListener = (event: string | symbol, listener: unknown) => {
    if (listener !== ours[event]) sync(event, true);
  };
  // Also when the listener removed is the adapter's own: sync puts it back if it is still wanted.
  const onRemoveListener = (event: string | symbol) => sync(event, false, true);
  for (const event of Object.keys(ours)) sync(event, false);
  server.on('newListener', onNewListener);
  server.on('removeListener', onRemoveListener);
  cleanups.push(() => {
    attached = false;
    server.removeListener('newListener', onNewListener);
    server.removeListener('removeListener', onRemoveListener);
    for (const [event, listener] of Object.entries(ours)) server.removeListener(event, listener as never);
  });
}
