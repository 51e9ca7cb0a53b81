import { setMaxListeners } from 'node:events';
import {
  errorReasons,
  toErrorInfo,
  type ConnectionEvent,
  type ConnectionId,
  type ConnectionOutcome,
  type ConnectionState,
  type ErrorReason,
  type Registry,
  type Transport,
} from '@lifeline/core';
import { bindToCaller } from '@lifeline/core/internal';
import { channels, type ConnectionReleaseMessage } from './diagnostics.js';
import { ConnectionClosedError, ConnectionErroredError } from './errors.js';
import { invalidArgument } from './invalidArgument.js';

/**
 * Where a tracked object (request, response, stream, socket) keeps its
 * connection. `Symbol.for`, so that `connectionOf` of another installed copy
 * of the package finds it too.
 */
export const kConnection = Symbol.for('lifeline.connection');

// The transport modules' hooks into a connection. Symbol-keyed and not exported from the package: a caller
// holding a connection cannot feed it facts (a fake FINISH) or cut its transport except through `fail()`.
/** Feeds one fact to the registry. */
export const kApply = Symbol('lifeline.apply');
/** Stops the transport after `fail`: answer or destroy. */
export const kTerminate = Symbol('lifeline.terminate');
/** Forgets per-transport bookkeeping once ended. */
export const kDetach = Symbol('lifeline.detach');
/** The object the connection was tracked on (response, stream, socket): the diagnostics messages' `target`. */
export const kTarget = Symbol('lifeline.target');
/** True once the adapter has seen the connection end. */
export const kEnded = Symbol('lifeline.ended');

/**
 * The method by which a connection reports the bytes its transport has moved
 * (`undefined` when unknown). Only the watchdog calls it, at sweep time, so
 * the hot path pays nothing per write.
 */
export const kBytesMoved = Symbol('lifeline.bytesMoved');

/**
 * The handles of one registry that the adapter has not seen end yet: what the
 * watchdog and drain act on. An intrusive doubly linked list through the
 * handles themselves, so that tracking and ending a connection cost a few
 * pointer writes: a Map keyed by id cost a hash insert and delete per request,
 * and its table was rebuilt each time the in-flight count rose and fell
 * (about a tenth of the adapter's instructions per request, measured).
 */
class LiveHandles {
  first: TrackedConnection | undefined = undefined;
}

const kLiveHandles = Symbol('lifeline.liveHandles');
// Only for a registry that cannot take the property (frozen, sealed, a proxy that refuses it).
const liveByRegistry = new WeakMap<object, LiveHandles>();

/**
 * The registry's live handles, kept on the registry itself (a non-enumerable symbol
 * property): one property read per request, and they go with the registry.
 */
function liveOf(registry: object): LiveHandles {
  const own = (registry as { [kLiveHandles]?: LiveHandles })[kLiveHandles];
  if (own !== undefined) return own;
  let live = liveByRegistry.get(registry);
  if (live === undefined) {
    live = new LiveHandles();
    if (!Reflect.defineProperty(registry, kLiveHandles, { value: live })) liveByRegistry.set(registry, live);
  }
  return live;
}

/** A snapshot, by id, of the live handles of `registry`: built on each call, for sweeps and shutdown, never per request. */
export function handlesOf<M>(registry: Registry<M>): Map<ConnectionId, TrackedConnection> {
  return snapshotOf(liveOf(registry));
}

/** Set by the class below, which alone reads the list's links. */
let snapshotOf: (live: LiveHandles) => Map<ConnectionId, TrackedConnection>;

/**
 * Ends connection `id` of `registry` as `errored` for `reason`: through its
 * handle when the adapter tracks it (so the transport is answered or cut), or
 * on the registry alone for one opened there directly (nothing to cut).
 * `handles` is a {@link handlesOf} snapshot, for callers that end many.
 */
export function failById<M>(registry: Registry<M>, id: ConnectionId, reason: ErrorReason, handles = handlesOf(registry)): void {
  const handle = handles.get(id);
  if (handle !== undefined) handle.fail(reason);
  else registry.dispatch(id, { type: 'ERROR', reason });
}

/** The signal of `connection` if it was ever created (set by the class below, which alone can read it). */
let createdSignal: (connection: Connection<unknown>) => AbortSignal | undefined;

/**
 * How many links of an error's `cause` chain {@link isOwnAbort} reads: the error itself and up to
 * seven causes. Enough for the wrappers real code stacks; a bound so a chain that loops back on itself ends.
 */
const CAUSE_CHAIN_LINKS = 8;

/**
 * True when `error` is the connection's own abort surfacing in the code that
 * used its signal: the signal's reason itself (fetch, undici), an error whose
 * `cause` chain holds it (timers/promises, events.once), or an `AbortError`
 * once the signal has aborted. The reason is a `ConnectionClosedError` or
 * `ConnectionErroredError`, both named `'AbortError'`, so one name check per
 * link covers all three. At most {@link CAUSE_CHAIN_LINKS} (8) links are read:
 * the error and its first seven causes; an `AbortError` deeper than that is
 * not recognised. Reads the signal only if it was ever created.
 */
export function isOwnAbort(connection: Connection<unknown>, error: unknown): boolean {
  const signal = createdSignal(connection);
  if (signal === undefined || !signal.aborted) return false;
  let current: unknown = error;
  for (let depth = 0; depth < CAUSE_CHAIN_LINKS && current != null; depth++) {
    if ((current as { name?: unknown }).name === 'AbortError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function isFinal(state: ConnectionState): boolean {
  return state === 'finished' || state === 'closed' || state === 'errored';
}

/**
 * One tracked connection: an HTTP/1 request/response pair, an HTTP/2 stream,
 * or an upgraded / CONNECT socket. The registry holds its state; this is what
 * server code holds. `M` is the registry's metadata type: a connection from
 * `instrumentation.connectionOf(req)` or `track(req, res, { registry })` has
 * its registry's `M`; the free `connectionOf(req)` cannot know it (`unknown`).
 *
 * @example
 * ```ts
 * const connection = instrumentation.connectionOf(req)!;
 * await db.query(sql, { signal: connection.signal }); // aborted if the client leaves
 * connection.onEnd((outcome) => sessions.delete(sessionId));
 * ```
 */
export interface Connection<M = unknown> {
  /** Its id in {@link Connection.registry}. */
  readonly id: ConnectionId;
  /** The registry it is tracked in. */
  readonly registry: Registry<M>;
  readonly transport: Transport;
  /** The current state; after the end, the outcome (`undefined` if it was released on the registry directly). */
  readonly state: ConnectionState | undefined;
  /** The outcome once the connection has ended, else `undefined`. */
  readonly outcome: ConnectionOutcome | undefined;
  /**
   * Aborts when the peer leaves (reason: a `ConnectionClosedError`) or the
   * connection errors (a `ConnectionErroredError`); both are named
   * `'AbortError'`. Never aborts when the connection finishes normally, nor
   * because the request body was read. Created on first access: unused, it
   * costs nothing. Takes any number of listeners (no `MaxListenersExceededWarning`).
   * @example `await fetch(url, { signal: connection.signal })`
   */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once when the connection ends, with its outcome and the
   * terminal fact (the outcome is `undefined` if someone released it on the
   * registry directly), in the async context `onEnd` was called in (so an
   * `AsyncLocalStorage` store is the one of the request that registered it).
   * If it has ended already, `listener` is still called, on a microtask.
   * Returns a function that removes the listener. Use it to free your own
   * per-request bookkeeping: unlike `res.on('close')` it also fires for
   * pipelined responses whose socket died (Node 20 gives those neither `finish` nor `close`).
   * @example `connection.onEnd(() => sessions.delete(sessionId))`
   */
  onEnd(listener: (outcome: ConnectionOutcome | undefined, event: ConnectionEvent) => void): () => void;
  /**
   * Ends the connection as `errored` now: records the reason and error, then
   * answers with an error status if nothing was sent yet (503 for `timeout`
   * and `shutdown`, 500 otherwise; through the response for HTTP/1 and
   * HTTP/2 compat requests, so `res.statusCode` is that status), or cuts the
   * transport if the response had started (`{ terminate: false }` records
   * only). Does nothing once it has ended.
   * @example `connection.fail('timeout')`
   */
  fail(reason: ErrorReason, error?: unknown, options?: { terminate?: boolean }): void;
  /**
   * Records body progress (`bytesSent` is the running total). `pipeResponse`
   * and `sendFile` call it; a slow download that makes progress is then not
   * stale to the watchdog.
   * @example `connection.progress(bytesWrittenSoFar)`
   */
  progress(bytesSent: number): void;
}

/**
 * The adapter's side of a {@link Connection}; each transport module extends
 * it. Not exported from the package: its state is in private fields and its
 * hooks are keyed by symbols only the adapter's modules hold.
 */
export abstract class TrackedConnection<M = unknown> implements Connection<M> {
  static {
    // `#controller in`: a connection of another installed copy (found through the shared tag) has none of
    // this class's private fields; it reads as "no signal created" rather than throwing a TypeError.
    createdSignal = (connection) => (#controller in connection ? connection.#controller?.signal : undefined);
    snapshotOf = (live) => {
      const handles = new Map<ConnectionId, TrackedConnection>();
      for (let handle = live.first; handle !== undefined; handle = handle.#next) handles.set(handle.#id, handle);
      return handles;
    };
  }

  readonly #id: ConnectionId;
  readonly #registry: Registry<M>;
  readonly #transport: Transport;
  #controller: AbortController | undefined;
  /** Set once the adapter has seen this connection end (or found it released by someone else). */
  #ended: ConnectionOutcome | 'released-elsewhere' | undefined;
  #endEvent: ConnectionEvent | undefined;
  /** End listeners; most connections never get one, so nothing is allocated until then. */
  #endListeners: ((outcome: ConnectionOutcome | undefined, event: ConnectionEvent) => void)[] | undefined;
  /** The registry's live handles and this one's neighbours there, until the adapter sees it end. */
  readonly #live: LiveHandles;
  #previous: TrackedConnection | undefined = undefined;
  #next: TrackedConnection | undefined;

  constructor(id: ConnectionId, registry: Registry<M>, transport: Transport) {
    this.#id = id;
    this.#registry = registry;
    this.#transport = transport;
    const live = liveOf(registry);
    this.#live = live;
    const next = live.first;
    this.#next = next;
    if (next !== undefined) next.#previous = this as TrackedConnection;
    live.first = this as TrackedConnection;
  }

  get id(): ConnectionId {
    return this.#id;
  }

  get registry(): Registry<M> {
    return this.#registry;
  }

  get transport(): Transport {
    return this.#transport;
  }

  get state(): ConnectionState | undefined {
    const live = this.#registry.state(this.#id);
    if (live !== undefined) return live;
    return this.#ended === 'released-elsewhere' ? undefined : this.#ended;
  }

  get outcome(): ConnectionOutcome | undefined {
    return this.#ended === 'released-elsewhere' ? undefined : this.#ended;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      // Users hand the signal to every call a request makes; each adds an 'abort' listener.
      setMaxListeners(0, this.#controller.signal);
      if (this.#endEvent !== undefined) this.#abortFor(this.#endEvent);
    }
    return this.#controller.signal;
  }

  onEnd(listener: (outcome: ConnectionOutcome | undefined, event: ConnectionEvent) => void): () => void {
    if (typeof listener !== 'function') {
      throw invalidArgument('connection.onEnd', 'listener', 'a function (outcome, event) => void', listener, 'Pass a callback: connection.onEnd((outcome) => ...).');
    }
    // The end is observed wherever Node reports it (another request's turn, a socket sweep): binding runs the
    // listener in the async context it was registered in, so AsyncLocalStorage stores (request ids, trace
    // spans) are this request's. Only callers of onEnd pay for it (the core's handles bind the same way).
    const bound = bindToCaller(listener);
    if (this.#endEvent !== undefined) {
      const event = this.#endEvent;
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) this.#callEndListener(bound, event);
      });
      return () => {
        cancelled = true;
      };
    }
    (this.#endListeners ??= []).push(bound);
    return () => {
      const i = this.#endListeners?.indexOf(bound) ?? -1;
      if (i >= 0) this.#endListeners!.splice(i, 1);
    };
  }

  #callEndListener(listener: (outcome: ConnectionOutcome | undefined, event: ConnectionEvent) => void, event: ConnectionEvent) {
    try {
      listener(this.outcome, event);
    } catch (error) {
      console.error(`lifeline: an onEnd listener threw for connection ${this.#id}:`, error);
    }
  }

  fail(reason: ErrorReason, error?: unknown, options: { terminate?: boolean } = {}): void {
    if (!errorReasons.includes(reason)) {
      throw invalidArgument('connection.fail', 'reason', `one of ${errorReasons.map((r) => `'${r}'`).join(', ')}`, reason, "Name why it failed, e.g. connection.fail('handler-error', error).");
    }
    if (options === null || typeof options !== 'object' || (options.terminate !== undefined && typeof options.terminate !== 'boolean')) {
      throw invalidArgument('connection.fail', 'options', 'an object { terminate?: boolean }', options, 'Pass { terminate: false } to record the failure without answering or cutting the transport, or leave it out.');
    }
    if (this.#ended !== undefined) return;
    this[kApply](error === undefined ? { type: 'ERROR', reason } : { type: 'ERROR', reason, error: toErrorInfo(error) });
    if (options.terminate !== false) this[kTerminate](reason);
  }

  progress(bytesSent: number): void {
    if (!Number.isSafeInteger(bytesSent) || bytesSent < 0) {
      throw invalidArgument('connection.progress', 'bytesSent', 'a whole number of bytes >= 0 (the running total)', bytesSent, 'Pass the total body bytes sent so far.');
    }
    this[kApply]({ type: 'DATA', bytesSent });
  }

  /** Bytes moved by the transport under this connection (`undefined` when unknown); see {@link kBytesMoved}. */
  abstract [kBytesMoved](): number | undefined;

  /** Stop the transport after `fail`: answer or destroy. */
  protected abstract [kTerminate](reason: ErrorReason): void;

  /** Forget per-transport bookkeeping once ended. */
  protected abstract [kDetach](): void;

  /** The object it was tracked on, for the release message. */
  protected abstract [kTarget](): object;

  /** True once the adapter has seen this connection end. */
  protected get [kEnded](): boolean {
    return this.#ended !== undefined;
  }

  /**
   * Feeds one fact to the registry. Facts after the adapter saw the end are
   * dropped here: a `close` after `finish` is the normal order, not news.
   */
  protected [kApply](event: ConnectionEvent): void {
    if (this.#ended !== undefined) return;
    const state = this.#registry.dispatch(this.#id, event);
    if (state === undefined) this.#end('released-elsewhere', event);
    else if (isFinal(state)) this.#end(state as ConnectionOutcome, event);
  }

  #end(outcome: ConnectionOutcome | 'released-elsewhere', event: ConnectionEvent): void {
    this.#ended = outcome;
    this.#endEvent = event;
    this.#unlink();
    this[kDetach]();
    if (this.#controller !== undefined) this.#abortFor(event);
    if (this.#endListeners !== undefined) {
      const listeners = this.#endListeners;
      this.#endListeners = undefined;
      for (const listener of listeners) this.#callEndListener(listener, event);
    }
    if (channels.release.hasSubscribers) {
      const message: ConnectionReleaseMessage = {
        id: this.#id,
        transport: this.#transport,
        registry: this.#registry as Registry<unknown>,
        target: this[kTarget](),
        outcome: this.outcome,
        event,
      };
      channels.release.publish(message);
    }
  }

  #unlink(): void {
    const previous = this.#previous;
    const next = this.#next;
    if (previous === undefined) this.#live.first = next;
    else previous.#next = next;
    if (next !== undefined) next.#previous = previous;
    this.#previous = undefined;
    this.#next = undefined;
  }

  #abortFor(event: ConnectionEvent): void {
    if (event.type === 'CLOSE') this.#controller!.abort(new ConnectionClosedError(event.reason));
    else if (event.type === 'ERROR') this.#controller!.abort(new ConnectionErroredError(event.reason, event.error));
  }
}
