import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionEvent, ErrorReason, Registry, Transport } from '@lifeline/core';
import { kApply, kBytesMoved, kConnection, kDetach, kEnded, kTarget, kTerminate, TrackedConnection } from './connection.js';
import { channels } from './diagnostics.js';
import { endingFact, FINISH, isPeerError } from './endingFacts.js';
import { answerFailure, nothingSent } from './plainAnswer.js';
import { socketBytesMoved } from './transportBytes.js';

/** Set on a socket once its `timeout` listener is attached (one per socket, never one per request). */
const kWatched = Symbol('lifeline.watched');
/** Set on a socket when its timeout fired: the server, not the peer, ended what was in flight. */
const kTimedOut = Symbol('lifeline.timedOut');
/** Responses queued behind another on a pipelining socket; created only when one is. */
const kQueued = Symbol('lifeline.queued');
/** The parser error Node handed to an application's `clientError` listener (which then owns the socket). */
const kClientError = Symbol('lifeline.clientError');

type TaggedSocket = Socket & {
  [kWatched]?: true;
  [kTimedOut]?: true | undefined;
  [kQueued]?: Set<Http1Connection>;
  [kClientError]?: Error;
};

/**
 * Without a `clientError` listener Node destroys the socket with the parser
 * error (`socket.errored`); with one, the error goes to the listener only. The
 * adapter listens only while the application does (listening changes Node's
 * behaviour) and keeps the error on the socket, so a malformed request is
 * classified the same either way.
 */
export function onClientError(error: Error, socket: Socket): void {
  (socket as TaggedSocket)[kClientError] = error;
}

/** What the socket died of: its own error, or the parser error an application's clientError listener was given. */
function socketError(socket: TaggedSocket): Error | null | undefined {
  return socket.errored ?? socket[kClientError];
}
type TaggedResponse = ServerResponse & { [kConnection]?: Http1Connection };

// This module's hooks into its connections: symbol-keyed, so nothing outside the adapter can fake these facts.
// One exception, registered with Symbol.for for the sibling @lifeline/fastify only: light-my-request's fake
// response (fastify.inject) emits `finish` while `writableFinished` is still false, so the plugin reports it.
// It is not part of the public API.
const kResponseFinished = Symbol.for('lifeline.internal.http1.responseFinished');
const kResponseClosed = Symbol('lifeline.responseClosed');
const kSocketGone = Symbol('lifeline.socketGone');

function onSocketTimeout(this: TaggedSocket): void {
  this[kTimedOut] = true;
}

/**
 * A response queued behind another (pipelining) has no socket yet, and if the
 * socket dies before its turn Node 20 gives it neither `finish` nor `close`.
 * Only for such a socket is a `close` listener added, once, and it sweeps the
 * queue. Keep-alive sockets serving one request at a time get nothing per request.
 */
function queueOnSocket(socket: TaggedSocket, connection: Http1Connection): void {
  let queued = socket[kQueued];
  if (queued === undefined) {
    queued = new Set();
    socket[kQueued] = queued;
    socket.on('close', onQueueSocketClose);
  }
  queued.add(connection);
}

function onQueueSocketClose(this: TaggedSocket): void {
  // Let the responses' own `close` (emitted by the server in this same turn or the next)
  // classify the active response first; only what is left is swept here. The listener is
  // added together with the queue, so the queue is there (an empty one sweeps nothing).
  setImmediate(sweep, this[kQueued]!);
}

function sweep(queued: Set<Http1Connection>): void {
  for (const connection of [...queued]) connection[kSocketGone]();
}

function watchTimeouts(socket: TaggedSocket): void {
  if (socket[kWatched] === undefined) {
    socket[kWatched] = true;
    socket.on('timeout', onSocketTimeout);
  }
}

/**
 * Node 20 emits `close` on every response that was assigned a socket, after
 * `finish` when there was one: a single listener sees every ending, and
 * `writableFinished` tells whether `finish` came first.
 */
function onResponseClose(this: TaggedResponse): void {
  this[kConnection]?.[kResponseClosed]();
}

/** An HTTP/1 (or HTTPS) request/response pair. */
export class Http1Connection<M = unknown> extends TrackedConnection<M> {
  constructor(
    id: number,
    registry: Registry<M>,
    transport: Transport,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    super(id, registry, transport);
  }

  get #timedOut(): boolean {
    return (this.req.socket as TaggedSocket)[kTimedOut] === true;
  }

  /** The response finished. `finish` is not proof of delivery: a reset socket can still emit it (Node 20). */
  [kResponseFinished](): void {
    const socketError = this.req.socket.errored;
    if (socketError) this[kApply](this.#withHeaders(endingFact(socketError, false, 'reset', 'socket-error')));
    else this[kApply](FINISH);
  }

  /** The response emitted `close` (after `finish`, or instead of it). */
  [kResponseClosed](): void {
    if (this[kEnded]) return;
    if (this.res.writableFinished) return this[kResponseFinished]();
    const socketDiedOf = socketError(this.req.socket as TaggedSocket);
    // From Node 24 a pipelined response still queued when its socket dies is destroyed with Node's own
    // ECONNRESET ('aborted'), whatever killed the socket: a FIN, a reset, the application's own error. That
    // error is no fact about the peer; the socket's own error, or none (the client's FIN: aborted), says what happened.
    const resError = isPeerError(this.res.errored) ? undefined : this.res.errored;
    const error = resError ?? socketDiedOf;
    this[kApply](this.#withHeaders(endingFact(error, this.#timedOut, 'aborted', resError != null ? 'destroyed' : 'socket-error')));
  }

  /** The socket closed while this response was still queued behind others (pipelining), or was destroyed already when it was tracked. */
  [kSocketGone](): void {
    // A response that finished is not here: Node emits its `close` on the next tick after `finish`,
    // before this sweep's turn, and attaching late checks `writableFinished` before the socket.
    if (this[kEnded]) return;
    this[kApply](this.#withHeaders(endingFact(socketError(this.req.socket as TaggedSocket), this.#timedOut, 'session-closed', 'socket-error')));
  }

  /** Record that headers went out before a non-finish ending, for the journal. */
  #withHeaders(event: ConnectionEvent): ConnectionEvent {
    if (this.res.headersSent && this.registry.state(this.id) === 'open') {
      this[kApply]({ type: 'HEADERS', status: this.res.statusCode });
    }
    return event;
  }

  /** The socket's counters: on keep-alive they include earlier requests, which is harmless, since only their change is read. */
  override [kBytesMoved](): number | undefined {
    return socketBytesMoved(this.req.socket);
  }

  protected [kTerminate](reason: ErrorReason): void {
    const res = this.res;
    if (nothingSent(res)) {
      answerFailure(res, reason, { connection: 'close' });
    } else if (!res.destroyed) {
      res.destroy();
    }
  }

  protected [kDetach](): void {
    (this.req.socket as TaggedSocket)[kQueued]?.delete(this as unknown as Http1Connection);
  }

  protected [kTarget](): object {
    return this.res;
  }
}

const OPEN_HTTP1 = Object.freeze({ transport: 'http1' as Transport });
const OPEN_HTTPS = Object.freeze({ transport: 'https' as Transport });

/** Options of {@link track}. */
export interface TrackOptions<M> {
  registry: Registry<M>;
  /** Metadata stored with the connection (e.g. `{ method, url }`). */
  meta?: M;
  /** Default `'https'` for TLS sockets, else `'http1'`. */
  transport?: Transport;
}

/**
 * Tracks one HTTP/1 request/response pair until its end and returns its
 * handle. Tracking twice returns the same handle. Attaching late is safe: if
 * the response already finished or closed, the connection is released at
 * once with the right outcome; if `end()` was called but `finish` has not
 * fired, it is released when the response itself ends, never at attach time.
 *
 * @example
 * ```ts
 * const registry = createRegistry();
 * http.createServer((req, res) => {
 *   const connection = track(req, res, { registry });
 *   fetchReport({ signal: connection.signal }).then((r) => res.end(r));
 * });
 * ```
 */
export function trackHttp1<M>(req: IncomingMessage, res: ServerResponse, options: TrackOptions<M>): Http1Connection<M> {
  const taggedRes = res as TaggedResponse;
  const existing = taggedRes[kConnection];
  if (existing !== undefined) return existing as Http1Connection<M>;
  const socket = req.socket as TaggedSocket;
  const registry = options.registry;
  let transport: Transport;
  let id: number;
  if (options.meta === undefined && options.transport === undefined) {
    // Shared, frozen open options: the common case allocates nothing here.
    const open = (socket as { encrypted?: boolean }).encrypted ? OPEN_HTTPS : OPEN_HTTP1;
    transport = open.transport;
    id = registry.open(open);
  } else {
    transport = options.transport ?? ((socket as { encrypted?: boolean }).encrypted ? 'https' : 'http1');
    id = registry.open({ transport, meta: options.meta });
  }
  const connection = new Http1Connection<M>(id, registry, transport, req, res);
  taggedRes[kConnection] = connection as Http1Connection;
  (req as IncomingMessage & { [kConnection]?: Http1Connection })[kConnection] = connection as Http1Connection;
  if (channels.open.hasSubscribers) channels.open.publish({ id, transport, registry, target: res });

  // Attached late: the facts may already have happened.
  if (res.writableFinished) connection[kResponseFinished]();
  else if (res.destroyed) connection[kResponseClosed]();
  // A destroyed socket carries nothing more, closed or not yet (a stream handed to the server may close a turn later).
  else if (socket.destroyed) connection[kSocketGone]();
  else {
    watchTimeouts(socket);
    if (res.socket === null) queueOnSocket(socket, connection as Http1Connection);
    // At the head of the queue nothing older is in flight: a timeout an app handled earlier is not this one's.
    else if (socket[kTimedOut] === true) socket[kTimedOut] = undefined;
    res.on('close', onResponseClose);
  }
  return connection;
}
