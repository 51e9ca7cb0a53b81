import type { Http2ServerResponse, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { toErrorInfo, type ErrorReason, type Registry } from '@lifeline/core';
import { kApply, kBytesMoved, kConnection, kDetach, kEnded, kTarget, kTerminate, TrackedConnection, type Connection } from './connection.js';
import { checkRegistry } from './checkRegistry.js';
import { channels } from './diagnostics.js';
import { ConnectionErroredError } from './errors.js';
import { FINISH, isPeerError, isTimeoutError, timeoutFact } from './endingFacts.js';
import { invalidArgument } from './invalidArgument.js';
import { answerFailure, failureStatus, nothingSent } from './plainAnswer.js';
import { socketBytesMoved } from './transportBytes.js';

/**
 * The HTTP/2 error codes used here (RFC 9113, section 7), fixed by the protocol. Written out rather
 * than read from node:http2's `constants`: importing node:http2 loads TLS too, which would cost every
 * process that imports the adapter a few milliseconds at startup, most of them serving HTTP/1.
 */
export const NGHTTP2 = { NO_ERROR: 0, INTERNAL_ERROR: 2, CANCEL: 8 } as const;

type Tagged<T> = T & { [kConnection]?: Http2Connection };

/** Set on a session once the adapter watches it (one pair of listeners per session, never per stream). */
const kSessionWatched = Symbol('lifeline.sessionWatched');
/** Set on a session when the peer said it is leaving (its GOAWAY) or its socket ended (FIN). */
const kPeerLeft = Symbol('lifeline.peerLeft');
type WatchedSession = Http2Session & { [kSessionWatched]?: true; [kPeerLeft]?: true };

/**
 * Node gives a stream cut short by its session's end no trace of who ended
 * the session (no error, reset code 0 or CANCEL), so the session records it:
 * a peer's GOAWAY or FIN means the peer left; a session destroyed without
 * either was destroyed by the application.
 */
function watchSession(session: WatchedSession): void {
  if (session[kSessionWatched] === true) return;
  session[kSessionWatched] = true;
  const peerLeft = () => {
    session[kPeerLeft] = true;
  };
  session.once('goaway', peerLeft);
  session.socket?.once('end', peerLeft);
}

// This module's hooks into its connections: symbol-keyed, so nothing outside the adapter can fake these facts.
const kStreamClosed = Symbol('lifeline.streamClosed');
const kMarkTimedOut = Symbol('lifeline.markTimedOut');
const kWatchTimeout = Symbol('lifeline.watchTimeout');

function onStreamClose(this: Tagged<ServerHttp2Stream>): void {
  this[kConnection]?.[kStreamClosed]();
}

function ignoreOwnReset(): void {}

function onStreamTimeout(this: Tagged<ServerHttp2Stream>): void {
  this[kConnection]?.[kMarkTimedOut]();
}

type TimeoutArmable = Tagged<ServerHttp2Stream> & { timeout?: number };

/**
 * A stream emits 'timeout' only after `setTimeout(ms > 0)` armed its timer (the compat request and
 * response arm it through `stream.setTimeout` too), so the 'timeout' listener is added there, when
 * it can matter, rather than on every stream: `on()` runs the stream's own 'newListener' hook and
 * grows its listener table, a measurable share of the adapter's per-stream cost. Set as the tracked
 * stream's own `setTimeout`; it calls the stream's prototype method unchanged.
 */
function setTimeoutWatched(this: TimeoutArmable, msecs: number, callback?: () => void): ServerHttp2Stream {
  const result = (Object.getPrototypeOf(this) as ServerHttp2Stream).setTimeout.call(this, msecs, callback);
  if ((this.timeout ?? 0) > 0) this[kConnection]?.[kWatchTimeout]();
  return result as unknown as ServerHttp2Stream;
}

/** The `setTimeout` streams inherit, once a stream showed it (see `hasOwnSetTimeout`). */
let inheritedSetTimeout: unknown;

/**
 * Whether `stream` has a `setTimeout` of its own, set by someone else (another copy of the adapter, an APM
 * agent). Compares with the inherited method rather than asking `Object.hasOwn`, which on a stream's many
 * properties cost some 170 instructions per stream; an own property holding the inherited method itself
 * reads as none, and replacing that one changes nothing.
 */
function hasOwnSetTimeout(stream: TimeoutArmable): boolean {
  const current = stream.setTimeout;
  if (current === inheritedSetTimeout) return false;
  const inherited = (Object.getPrototypeOf(stream) as ServerHttp2Stream | null)?.setTimeout;
  if (current !== inherited) return true;
  inheritedSetTimeout = inherited;
  return false;
}

/**
 * The stream's error, unless it is only the echo of a cut the stream already had. When a stream is cut
 * short while its writable side is open (the peer's reset, its session's end), Node flags it `aborted`
 * and ends that side itself; it destroys the stream a little later. An application write that lands in
 * between (a timer's `stream.write`, a compat `res.write`) fails with ERR_STREAM_WRITE_AFTER_END and
 * destroys the stream with that error. The write did not end the stream, the cut did: it ends as it
 * would have without the write. A stream the application ended itself is never `aborted`, so its own
 * write after its own end still counts.
 */
function causeOfEnd(stream: ServerHttp2Stream): Error | null {
  const error = stream.errored;
  if (stream.aborted && (error as { code?: string } | null)?.code === 'ERR_STREAM_WRITE_AFTER_END') return null;
  return error;
}

/**
 * One HTTP/2 stream (core API or compat request/response). Decided at the
 * stream's `close`, where `rstCode` is final: a stream the client cancelled
 * (RST_STREAM CANCEL) emits `finish` on the compat response, yet it is `closed`.
 */
export class Http2Connection<M = unknown> extends TrackedConnection<M> {
  #timedOut = false;
  /** True once the stream's 'timeout' is listened to (see `setTimeoutWatched`). */
  #watchingTimeout = false;
  readonly #session: Http2Session | undefined;

  constructor(
    id: number,
    registry: Registry<M>,
    readonly stream: ServerHttp2Stream,
    session: Http2Session | undefined,
  ) {
    super(id, registry, 'http2');
    this.#session = session;
  }

  [kMarkTimedOut](): void {
    this.#timedOut = true;
  }

  /** Listens for the stream's own timeout, once, unless the connection has already ended. */
  [kWatchTimeout](): void {
    if (this.#watchingTimeout || this[kEnded]) return;
    this.#watchingTimeout = true;
    this.stream.on('timeout', onStreamTimeout);
  }

  [kStreamClosed](): void {
    if (this[kEnded]) return;
    const stream = this.stream;
    const error = causeOfEnd(stream);
    const rst = stream.rstCode ?? NGHTTP2.NO_ERROR;
    const session = this.#session as WatchedSession | undefined;
    // A stream cut short by its session's end can close with no error, code 0 and its writable side
    // ended by Node itself: only `aborted` and the session's state tell it did not finish.
    const cutShort = stream.aborted || session?.destroyed === true;
    if (!error && rst === NGHTTP2.NO_ERROR && stream.writableFinished && !cutShort) return this[kApply](FINISH);
    if (stream.headersSent && this.registry.state(this.id) === 'open') this[kApply]({ type: 'HEADERS' });
    if (this.#timedOut || isTimeoutError(error)) return this[kApply](timeoutFact(error));
    const peerLeftSession = session?.[kPeerLeft] === true;
    if (session?.destroyed === true && !peerLeftSession && !isPeerError(error)) {
      // Neither a GOAWAY nor a FIN from the peer: the application destroyed the session under this stream.
      return this[kApply](error ? { type: 'ERROR', reason: 'destroyed', error: toErrorInfo(error) } : { type: 'ERROR', reason: 'destroyed' });
    }
    // A RST_STREAM surfaces as ERR_HTTP2_STREAM_ERROR with its code. Node shows no difference between one the
    // peer sent and one the app sent with stream.close(code), so both count as a reset (closed); a server-side
    // failure the app wants recorded as such goes through connection.fail(), which records ERROR first.
    // A cancel from the peer (RST_STREAM CANCEL, its socket closing) brings no error. An error left after these
    // checks is the application's own: a server-side failure whatever reset code went with it, CANCEL included
    // (a session destroyed with that code, a stream destroyed with an AbortError or in its 'aborted' listener).
    const code = (error as { code?: string } | null)?.code;
    const reset = rst !== NGHTTP2.NO_ERROR && code === 'ERR_HTTP2_STREAM_ERROR';
    const peerSessionError = peerLeftSession && code === 'ERR_HTTP2_SESSION_ERROR';
    if (error && !isPeerError(error) && !reset && !peerSessionError) {
      return this[kApply]({ type: 'ERROR', reason: 'destroyed', error: toErrorInfo(error) });
    }
    // The peer's GOAWAY or FIN came first and this stream was cut short after it: the session left, not the stream.
    // A GOAWAY closes the session at once; after a FIN Node closes it only when the socket closes (not while a
    // half-open server keeps it), so a stream the application cuts in between finds the session still open.
    const sessionGone = session !== undefined && (session.destroyed || session.closed || (peerLeftSession && cutShort));
    if (rst === NGHTTP2.CANCEL) return this[kApply]({ type: 'CLOSE', reason: sessionGone ? 'session-closed' : 'cancelled' });
    if (sessionGone) return this[kApply]({ type: 'CLOSE', reason: 'session-closed' });
    this[kApply]({ type: 'CLOSE', reason: rst === NGHTTP2.NO_ERROR ? 'aborted' : 'reset' });
  }

  /**
   * The session socket's counters. Node exposes no per-stream byte count, so
   * a stream stalled by flow control counts as moving while another stream of
   * the same session moves; once the whole session stalls, its socket stops.
   */
  override [kBytesMoved](): number | undefined {
    const session = this.#session;
    if (session === undefined || session.destroyed) return undefined;
    return socketBytesMoved(session.socket);
  }

  protected [kTerminate](reason: ErrorReason): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    if (!stream.headersSent) {
      // A compat request is answered through its response, as HTTP/1 is: its statusCode (what access loggers
      // read when it ends) is then the status sent, and headers the handler had staged are dropped.
      const res = compatResponseOf(stream);
      if (res !== undefined && nothingSent(res)) answerFailure(res, reason);
      else stream.respond({ ':status': failureStatus(reason) }, { endStream: true });
    } else {
      // close(code) would send END_STREAM before the reset, so the client would take the cut body for a
      // complete one; destroy(error) resets at once with INTERNAL_ERROR. Node emits that error on the stream:
      // a core-API app with no 'error' listener must not crash on a cut it did not make.
      stream.on('error', ignoreOwnReset);
      stream.destroy(new ConnectionErroredError(reason));
    }
  }

  protected [kDetach](): void {}

  protected [kTarget](): object {
    return this.stream;
  }
}

/**
 * The compat API's response of a stream, or undefined for a core-API one. Node keeps it on the stream under
 * its own `Symbol(response)` (Node 20 to 26); looked up only when a connection is failed, never per request.
 * Where Node keeps it otherwise, the stream is answered as a core-API one (the client gets the same status).
 */
function compatResponseOf(stream: ServerHttp2Stream): Http2ServerResponse | undefined {
  for (const key of Object.getOwnPropertySymbols(stream)) {
    if (key.description !== 'response') continue;
    const value = (stream as unknown as Record<symbol, Partial<Http2ServerResponse> | undefined>)[key];
    if (value?.stream === stream && typeof value.writeHead === 'function' && typeof value.getHeaderNames === 'function') return value as Http2ServerResponse;
  }
  return undefined;
}

/**
 * Tracks one HTTP/2 stream until its end. Tracking twice returns the same handle.
 *
 * @example
 * ```ts
 * server.on('stream', (stream) => { const c = trackStream(stream, { registry }); ... });
 * ```
 */
export function trackStream<M>(stream: ServerHttp2Stream, options: { registry: Registry<M>; meta?: M }): Connection<M> {
  checkRegistry(options, 'trackStream');
  if (typeof (stream as { respond?: unknown } | null)?.respond !== 'function') {
    throw invalidArgument('trackStream', 'stream', 'an HTTP/2 server stream', stream, "Pass the stream of the server's 'stream' event; for a compat (req, res) pair use track(req, res, { registry }).");
  }
  return trackServerStream(stream, options, undefined);
}

/**
 * Internal: `trackStream` without the argument checks, for `instrument`, which
 * also has the request's headers to put on the open message (a stream does not
 * keep them where a subscriber could read them).
 */
export function trackServerStream<M>(
  stream: ServerHttp2Stream,
  options: { registry: Registry<M>; meta?: M },
  headers: IncomingHttpHeaders | undefined,
): Connection<M> {
  const tagged = stream as Tagged<ServerHttp2Stream>;
  const existing = tagged[kConnection];
  if (existing !== undefined) return existing as Http2Connection<M>;
  const registry = options.registry;
  const id = registry.open({ transport: 'http2', meta: options.meta });
  const session = stream.session;
  if (session !== undefined) watchSession(session);
  const connection = new Http2Connection<M>(id, registry, stream, session);
  tagged[kConnection] = connection as Http2Connection;
  if (channels.open.hasSubscribers) {
    channels.open.publish(
      headers === undefined ? { id, transport: 'http2', registry, target: stream } : { id, transport: 'http2', registry, target: stream, headers },
    );
  }
  if (stream.closed) connection[kStreamClosed]();
  else {
    stream.on('close', onStreamClose);
    const armable = stream as TimeoutArmable;
    // Armed before tracking (an application 'stream' listener that ran first): listen now. An own
    // setTimeout of someone else's is left alone, and then the listener goes on at once.
    if ((armable.timeout ?? 0) > 0 || hasOwnSetTimeout(armable)) connection[kWatchTimeout]();
    else armable.setTimeout = setTimeoutWatched as ServerHttp2Stream['setTimeout'];
  }
  return connection;
}
