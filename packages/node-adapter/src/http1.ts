import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { toErrorInfo, type CloseReason, type ConnectionEvent, type ErrorReason, type Registry, type Transport } from '@lifeline/core';
import { kConnection, TrackedConnection } from './connection.js';
import { channels } from './diagnostics.js';
import { isPeerError, isTimeoutError } from './peerErrors.js';

const kWatch = Symbol('lifeline.socketWatch');

type Tagged<T> = T & { [kConnection]?: Http1Connection; [kWatch]?: SocketWatch };

/**
 * One watcher per socket, never one listener per request: keep-alive sockets
 * serve thousands of requests. It knows which of its responses are still live
 * so that pipelined responses still queued when the socket dies are released
 * (on Node 20 they get neither `finish` nor `close`).
 */
class SocketWatch {
  readonly live = new Set<Http1Connection>();
  timedOut = false;
  gone = false;
}

function onSocketClose(this: Tagged<Socket>): void {
  const watch = this[kWatch]!;
  watch.gone = true;
  // Let the responses' own `close` (emitted by the server in this same turn or the next)
  // classify the active response first; only what is left is swept here.
  if (watch.live.size > 0) setImmediate(sweep, watch);
}

function sweep(watch: SocketWatch): void {
  for (const connection of [...watch.live]) connection.socketGone();
}

function onSocketTimeout(this: Tagged<Socket>): void {
  this[kWatch]!.timedOut = true;
}

function watchSocket(socket: Tagged<Socket>): SocketWatch {
  let watch = socket[kWatch];
  if (watch === undefined) {
    watch = new SocketWatch();
    socket[kWatch] = watch;
    socket.on('close', onSocketClose);
    socket.on('timeout', onSocketTimeout);
    if (socket.destroyed && socket.closed) watch.gone = true;
  }
  return watch;
}

function onResponseFinish(this: Tagged<ServerResponse>): void {
  this[kConnection]?.responseFinished();
}

function onResponseClose(this: Tagged<ServerResponse>): void {
  this[kConnection]?.responseClosed();
}

const FINISH: ConnectionEvent = Object.freeze({ type: 'FINISH' });

/** Maps what is known at the end of an unfinished response onto a terminal fact. */
function endingFact(error: Error | null | undefined, timedOut: boolean, fallback: CloseReason, destroyedByServer: boolean): ConnectionEvent {
  if (timedOut || isTimeoutError(error)) {
    return error ? { type: 'ERROR', reason: 'timeout', error: toErrorInfo(error) } : { type: 'ERROR', reason: 'timeout' };
  }
  if (error) {
    if (isPeerError(error)) return { type: 'CLOSE', reason: 'reset' };
    return { type: 'ERROR', reason: destroyedByServer ? 'destroyed' : 'socket-error', error: toErrorInfo(error) };
  }
  return { type: 'CLOSE', reason: fallback };
}

/** An HTTP/1 (or HTTPS) request/response pair. */
export class Http1Connection<M = unknown> extends TrackedConnection<M> {
  constructor(
    id: number,
    registry: Registry<M>,
    transport: Transport,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly watch: SocketWatch,
  ) {
    super(id, registry, transport);
  }

  /** `finish` is not proof of delivery: a reset socket can still emit it (Node 20). */
  responseFinished(): void {
    const socketError = this.req.socket.errored;
    if (socketError) this.apply(this.withHeaders(endingFact(socketError, false, 'reset', false)));
    else this.apply(FINISH);
  }

  responseClosed(): void {
    if (this.isEnded) return;
    if (this.res.writableFinished) return this.responseFinished();
    const resError = this.res.errored;
    const error = resError ?? this.req.socket.errored;
    this.apply(this.withHeaders(endingFact(error, this.watch.timedOut, 'aborted', resError != null && resError === error)));
  }

  /** The socket closed while this response was still queued behind others (pipelining). */
  socketGone(): void {
    if (this.isEnded) return;
    if (this.res.writableFinished) return this.responseFinished();
    this.apply(this.withHeaders(endingFact(this.req.socket.errored, this.watch.timedOut, 'session-closed', false)));
  }

  /** Record that headers went out before a non-finish ending, for the journal. */
  private withHeaders(event: ConnectionEvent): ConnectionEvent {
    if (this.res.headersSent && this.registry.state(this.id) === 'open') {
      this.apply({ type: 'HEADERS', status: this.res.statusCode });
    }
    return event;
  }

  protected terminate(reason: ErrorReason): void {
    const res = this.res;
    if (!res.headersSent && !res.writableEnded && !res.destroyed) {
      const status = reason === 'timeout' || reason === 'shutdown' ? 503 : 500;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(status === 503 ? 'Service Unavailable\n' : 'Internal Server Error\n');
    } else if (!res.destroyed) {
      res.destroy();
    }
  }

  protected detach(): void {
    this.watch.live.delete(this as unknown as Http1Connection);
  }
}

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
 * fired, it is released at its own `finish`.
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
  const taggedRes = res as Tagged<ServerResponse>;
  const existing = taggedRes[kConnection];
  if (existing !== undefined) return existing as Http1Connection<M>;
  const socket = req.socket as Tagged<Socket>;
  const transport = options.transport ?? ((socket as { encrypted?: boolean }).encrypted ? 'https' : 'http1');
  const registry = options.registry;
  const id = options.meta === undefined ? registry.open({ transport }) : registry.open({ transport, meta: options.meta });
  const watch = watchSocket(socket);
  const connection = new Http1Connection<M>(id, registry, transport, req, res, watch);
  taggedRes[kConnection] = connection as Http1Connection;
  (req as Tagged<IncomingMessage>)[kConnection] = connection as Http1Connection;
  if (channels.open.hasSubscribers) channels.open.publish({ id, transport, registry, target: res });

  // Attached late: the facts may already have happened.
  if (res.writableFinished) connection.responseFinished();
  else if (res.destroyed) connection.responseClosed();
  else if (watch.gone) connection.socketGone();
  else {
    // Only a response queued behind another (pipelining) has no socket yet; only such a one can be
    // left without `finish` or `close` when the socket dies, so only it needs the socket's watch.
    if (res.socket === null) watch.live.add(connection as Http1Connection);
    res.on('finish', onResponseFinish);
    res.on('close', onResponseClose);
  }
  return connection;
}
