// The registry's public types. Every one is generic over the machine (states `S`, events `Ev`, final
// states `F`) with the connection machine's as defaults, so `Registry<M>` is the connection registry and
// `Registry<M, S, Ev, F>` a custom machine's: one registry, one set of types.
import type { EventOf, OutcomeOf, StateOf } from './compiledMachine.js';
import type { ConnectionOutcome, ConnectionState } from './connectionMachine.js';
import type { ConnectionEvent, EventDetail } from './events.js';
import type { ConnectionHandle } from './handle.js';
import type { JournalEntry } from './journal.js';
import type { LogRecord } from './log.js';

/** A connection's id in its registry: 1, 2, 3, ... in opening order. */
export type ConnectionId = number;

/** Well-known transport names; any other string is accepted too. */
export type Transport = 'http1' | 'https' | 'http2' | 'websocket' | 'tcp' | (string & {});

/** Where a listener that threw was called from. */
export interface ListenerErrorContext {
  readonly listener: 'transition' | 'release' | 'record' | 'end';
  readonly connectionId: ConnectionId;
}

/** Options of {@link createRegistry} and `createMachineRegistry`. `Ev`: the registry's events. */
export interface RegistryOptions<Ev = ConnectionEvent> {
  /** Milliseconds now. Default `Date.now`. Inject a fake one to make tests deterministic. */
  clock?: () => number;
  /** Events kept per connection and handed to release listeners. `0` turns the journal off. Default 8. */
  journalSize?: number;
  /** Called when a subscriber, release listener, end listener or `onRecord` throws. Default: `console.error`. */
  onListenerError?: (error: unknown, context: ListenerErrorContext) => void;
  /** Called with every open and every dispatched event, in order: the event log (see `toNdjsonLine`, `replay`). */
  onRecord?: (record: LogRecord<Ev>) => void;
  /** The transport of a connection opened without one. Default `'http1'` for the connection registry, `'none'` for a custom machine's. */
  transport?: Transport;
  /**
   * The event that ends a child (opened with `parent`) when its parent is
   * released, unless its `open` names another with `endWith`. It must take
   * every non-final state to a final state. Default for the connection
   * registry `{ type: 'CLOSE', reason: 'session-closed' }`; none for a custom machine's.
   */
  childEnd?: Ev;
}

/** Options of {@link Registry.open}. */
export interface OpenOptions<M, Ev = ConnectionEvent> {
  /** Default: the registry's `transport` option. */
  transport?: Transport;
  /** Anything you want back on release (method, url, route...). JSON-serializable if you log. */
  meta?: M;
  /**
   * Opens the connection as a child of `parent` (a socket's call, a session's
   * stream): when the parent is released, the child, if still in flight, is
   * ended with `endWith`. Ending a child never ends its parent. A child of a
   * parent that is not in flight is ended as soon as it is opened.
   */
  parent?: ConnectionId;
  /** The event that ends this child when its parent is released. Default: the registry's `childEnd`. */
  endWith?: Ev;
}

/** A snapshot of one in-flight connection. */
export interface ConnectionInfo<M = unknown, S extends string = ConnectionState> {
  readonly id: ConnectionId;
  readonly state: S;
  readonly transport: Transport;
  readonly meta: M | undefined;
  readonly openedAt: number;
  /** Clock time of the last event, or of the open. */
  readonly lastEventAt: number;
  /** The last `bytesSent` any event reported. */
  readonly bytesSent: number;
}

/** What release listeners receive, exactly once per connection. */
export interface ReleasedConnection<M = unknown, F extends string = ConnectionOutcome, Ev = ConnectionEvent>
  extends ConnectionInfo<M, F> {
  readonly state: F;
  readonly outcome: F;
  /** The first terminal fact, the one that released the connection. */
  readonly event: Ev;
  readonly releasedAt: number;
  /** `releasedAt - openedAt`. */
  readonly duration: number;
  /** The newest `journalSize` events, oldest first, including the terminal one. Empty when the journal is off. */
  readonly journal: readonly JournalEntry<Ev>[];
}

/** What transition subscribers receive for every event applied to an in-flight connection. */
export interface TransitionRecord<S extends string = ConnectionState, Ev = ConnectionEvent> {
  readonly id: ConnectionId;
  readonly event: Ev;
  readonly from: S;
  readonly to: S;
  readonly at: number;
  /** False when the machine has no transition for this event in `from` (a duplicate or out-of-order fact). */
  readonly handled: boolean;
}

/** Counters since the registry was created. `released` counts releases by outcome (the machine's final states). */
export interface RegistryStats<F extends string = ConnectionOutcome> {
  readonly opened: number;
  readonly inFlight: number;
  readonly released: { readonly [K in F]: number };
  /** Events for connections already released (the first terminal fact wins; these change nothing). */
  readonly lateEvents: number;
  /** Events for ids this registry never issued. */
  readonly unknownEvents: number;
  /** Events an in-flight connection had no transition for (duplicates, out of order, unknown types). */
  readonly ignoredEvents: number;
}

/** Filter of {@link Registry.list}. Every given condition must hold. */
export interface ListFilter<M = unknown, S extends string = ConnectionState> {
  state?: S | readonly S[];
  transport?: Transport;
  /** Opened at least this many ms ago. */
  olderThan?: number;
  /** No event for at least this many ms. */
  idleFor?: number;
  /** Only connections whose `meta` this returns true for. */
  meta?: (meta: M | undefined) => boolean;
  /** Only the in-flight children of this connection (opened with `parent`). */
  parent?: ConnectionId;
}

/**
 * The in-flight connections of one server (or any other owner), each released
 * exactly once. `M` is the metadata type; `S`, `Ev` and `F` are the machine's
 * states, events and final states (the connection machine's by default).
 */
export interface Registry<M = unknown, S extends string = ConnectionState, Ev = ConnectionEvent, F extends string = ConnectionOutcome> {
  /**
   * Opens a connection in the machine's initial state and returns its id.
   * @example `const id = registry.open({ transport: 'http1', meta: { url: req.url } })`
   */
  open(options?: OpenOptions<M, Ev>): ConnectionId;
  /**
   * Applies one fact. Returns the connection's state afterwards, or `undefined` for
   * an id that is not in flight (released or never issued). Never throws for odd
   * input: late, duplicate, unknown and out-of-order facts are counted.
   * At the first terminal fact the entry leaves the registry and release listeners run, synchronously.
   * @example `registry.dispatch(id, { type: 'CLOSE', reason: 'aborted' })`
   */
  dispatch(id: ConnectionId, event: Ev): S | undefined;
  /** The state of an in-flight connection, without allocating. */
  state(id: ConnectionId): S | undefined;
  /** Number of in-flight connections. */
  readonly size: number;
  /** A snapshot of one in-flight connection. */
  get(id: ConnectionId): ConnectionInfo<M, S> | undefined;
  /** Snapshots of the in-flight connections that match `filter`, oldest first. */
  list(filter?: ListFilter<M, S>): ConnectionInfo<M, S>[];
  stats(): RegistryStats<F>;
  /**
   * The handle of an in-flight connection (the same object on every call), or
   * `undefined` for an id that is not in flight. See {@link ConnectionHandle}.
   * @example `registry.handle(id)!.onEnd((outcome) => calls.delete(id))`
   */
  handle(id: ConnectionId): ConnectionHandle<F, Ev> | undefined;
  /** Calls `listener` for every event applied to an in-flight connection. Returns the unsubscribe function. */
  subscribe(listener: (transition: TransitionRecord<S, Ev>) => void): () => void;
  /** Calls `listener` once per connection, at its release. Returns the unsubscribe function. */
  onRelease(listener: (released: ReleasedConnection<M, F, Ev>) => void): () => void;
}

/** An event of a machine, with the optional `detail` every event may carry. */
export type WithDetail<Ev> = Ev extends unknown ? Ev & { readonly detail?: EventDetail } : never;

/**
 * The registry of a compiled machine `T` with metadata `M`: what
 * `createMachineRegistry(table)` returns.
 * @example `let jobs: RegistryFor<typeof jobTable, { queue: string }>`
 */
export type RegistryFor<T, M = unknown> = Registry<M, StateOf<T>, WithDetail<EventOf<T>>, OutcomeOf<T>>;
