import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Registry, Transport } from '@lifeline/core';
import { checkRegistry } from './checkRegistry.js';
import { kConnection, type Connection } from './connection.js';
import { trackHttp1 } from './http1.js';
import { trackStream } from './http2.js';
import { invalidArgument } from './invalidArgument.js';

/** Anything the adapter can hand you a connection for. */
export type Trackable = IncomingMessage | ServerResponse | Http2ServerRequest | Http2ServerResponse | ServerHttp2Stream | Duplex;

/** Options of {@link track}. */
export interface TrackOptions<M> {
  registry: Registry<M>;
  /** Metadata stored with the connection, e.g. `{ method, url }`. */
  meta?: M;
  /** HTTP/1 only. Default `'https'` on TLS sockets, else `'http1'`. */
  transport?: Transport;
}

function isCompat(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  return (req as { stream?: unknown }).stream !== undefined;
}

/**
 * Tracks one request/response pair (node:http, node:https, or the http2
 * compatibility API) until its end, and returns its handle. Tracking twice
 * returns the same handle. Attaching late is safe: a response that already
 * finished or closed is released at once with the right outcome; one whose
 * `end()` was called but has not finished is released at its own `finish`.
 * Something other than a server's request and response, or a missing
 * registry, throws at the call (`InvalidArgumentError`, `InvalidOptionsError`).
 *
 * @example
 * ```ts
 * const registry = createRegistry();
 * http.createServer((req, res) => {
 *   const connection = track(req, res, { registry });
 *   renderReport({ signal: connection.signal }).then((html) => res.end(html));
 * });
 * ```
 */
export function track<M>(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  options: TrackOptions<M>,
): Connection<M> {
  checkRegistry(options, 'track');
  // Plain typeof checks only: this runs on every request it is called for. `stream` first: a compat
  // request's `socket` getter would build a Proxy.
  const link: unknown = typeof req === 'object' && req !== null ? ((req as { stream?: unknown }).stream ?? req.socket) : undefined;
  if (typeof link !== 'object' || link === null) {
    throw invalidArgument('track', 'req', 'the request a server handed to its handler', req, 'Call track(req, res, { registry }) with the handler\'s own (req, res).');
  }
  if (typeof res !== 'object' || res === null || typeof res.on !== 'function') {
    throw invalidArgument('track', 'res', 'the response a server handed to its handler', res, 'Call track(req, res, { registry }) with the handler\'s own (req, res).');
  }
  if (isCompat(req)) {
    const connection = trackStream(req.stream, options);
    (req as { [kConnection]?: unknown })[kConnection] = connection;
    (res as { [kConnection]?: unknown })[kConnection] = connection;
    return connection;
  }
  return trackHttp1(req, res as ServerResponse, options);
}

/**
 * The connection tracked for a request, response, HTTP/2 stream or socket, if
 * any, whatever registry it is in (so its metadata type is `unknown`: use
 * `instrumentation.connectionOf(req)` for a `Connection<M>` of your registry).
 * For an `upgrade` or `CONNECT` request tracked by `instrument`, that is the
 * taken-over socket's connection. Connections tracked by another installed
 * copy of this package are found too. Anything but an object throws an `InvalidArgumentError`.
 * @example `connectionOf(req)?.signal`
 */
export function connectionOf(target: Trackable): Connection<unknown> | undefined {
  if (typeof target !== 'object' || target === null) {
    throw invalidArgument('connectionOf', 'target', 'a request, response, HTTP/2 stream or socket', target, 'Pass the req, res, stream or socket your handler received.');
  }
  const tagged = target as { [kConnection]?: Connection<unknown>; stream?: { [kConnection]?: Connection<unknown> } };
  return tagged[kConnection] ?? tagged.stream?.[kConnection];
}
