import { logError } from './console.js';
import type { ConnectionOutcome, ConnectionState } from './connectionMachine.js';
// Generated ahead of time from connectionMachine (scripts/generateConnectionTable.ts): compiling the
// machine here would load XState into every process that imports the registry.
import { connectionTable } from './connectionTable.generated.js';
import type { ConnectionEvent } from './events.js';
import { JournalRing, type JournalEntry } from './journal.js';
import type { LogRecord } from './log.js';
import { checkOptions, option } from './options.js';
import { restoreOpen, type Restorable } from './restoreOpen.js';

/** A connection's id in its registry: 1, 2, 3, ... in opening order. */
export type ConnectionId = number;

/** Well-known transport names; any other string is accepted too. */
export type Transport = 'http1' | 'https' | 'http2' | 'websocket' | 'tcp' | (string & {});

/** Where a listener that threw was called from. */
export interface ListenerErrorContext {
  readonly listener: 'transition' | 'release' | 'record';
  readonly connectionId: ConnectionId;
}

/** Options of {@link createRegistry}. */
export interface RegistryOptions {
  /** Milliseconds now. Default `Date.now`. Inject a fake one to make tests deterministic. */
  clock?: () => number;
  /** Events kept per connection and handed to release listeners. `0` turns the journal off. Default 8. */
  journalSize?: number;
  /** Called when a subscriber, release listener or `onRecord` throws. Default: `console.error`. */
  onListenerError?: (error: unknown, context: ListenerErrorContext) => void;
  /** Called with every open and every dispatched event, in order: the event log (see `toNdjsonLine`, `replay`). */
  onRecord?: (record: LogRecord) => void;
}

/** Options of {@link Registry.open}. */
export interface OpenOptions<M> {
  /** Default `'http1'`. */
  transport?: Transport;
  /** Anything you want back on release (method, url, route...). JSON-serializable if you log. */
  meta?: M;
}

/** A snapshot of one in-flight connection. */
export interface ConnectionInfo<M = unknown> {
  readonly id: ConnectionId;
  readonly state: ConnectionState;
  readonly transport: Transport;
  readonly meta: M | undefined;
  readonly openedAt: number;
  /** Clock time of the last event, or of the open. */
  readonly lastEventAt: number;
  /** The last `bytesSent` any event reported. */
  readonly bytesSent: number;
}

/** What release listeners receive, exactly once per connection. */
export interface ReleasedConnection<M = unknown> extends ConnectionInfo<M> {
  readonly state: ConnectionOutcome;
  readonly outcome: ConnectionOutcome;
  /** The first terminal fact, the one that released the connection. */
  readonly event: ConnectionEvent;
  readonly releasedAt: number;
  /** `releasedAt - openedAt`. */
  readonly duration: number;
  /** The newest `journalSize` events, oldest first, including the terminal one. Empty when the journal is off. */
  readonly journal: readonly JournalEntry[];
}

/** What transition subscribers receive for every event applied to an in-flight connection. */
export interface TransitionRecord {
  readonly id: ConnectionId;
  readonly event: ConnectionEvent;
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  readonly at: number;
  /** False when the machine has no transition for this event in `from` (a duplicate or out-of-order fact). */
  readonly handled: boolean;
}

/** Counters since the registry was created. */
export interface RegistryStats {
  readonly opened: number;
  readonly inFlight: number;
  readonly released: { readonly finished: number; readonly closed: number; readonly errored: number };
  /** Events for connections already released (the first terminal fact wins; these change nothing). */
  readonly lateEvents: number;
  /** Events for ids this registry never issued. */
  readonly unknownEvents: number;
  /** Events an in-flight connection had no transition for (duplicates, out of order, unknown types). */
  readonly ignoredEvents: number;
}

/** Filter of {@link Registry.list}. Every given condition must hold. */
export interface ListFilter {
  state?: ConnectionState | readonly ConnectionState[];
  transport?: Transport;
  /** Opened at least this many ms ago. */
  olderThan?: number;
  /** No event for at least this many ms. */
  idleFor?: number;
}

/** The in-flight connections of one server (or any other owner), each released exactly once. */
export interface Registry<M = unknown> {
  /**
   * Opens a connection in state `open` and returns its id.
   * @example `const id = registry.open({ transport: 'http1', meta: { url: req.url } })`
   */
  open(options?: OpenOptions<M>): ConnectionId;
  /**
   * Applies one fact. Returns the connection's state afterwards, or `undefined` for
   * an id that is not in flight (released or never issued). Never throws for odd
   * input: late, duplicate, unknown and out-of-order facts are counted.
   * At the first terminal fact the entry leaves the registry and release listeners run, synchronously.
   * @example `registry.dispatch(id, { type: 'CLOSE', reason: 'aborted' })`
   */
  dispatch(id: ConnectionId, event: ConnectionEvent): ConnectionState | undefined;
  /** The state of an in-flight connection, without allocating. */
  state(id: ConnectionId): ConnectionState | undefined;
  /** Number of in-flight connections. */
  readonly size: number;
  /** A snapshot of one in-flight connection. */
  get(id: ConnectionId): ConnectionInfo<M> | undefined;
  /** Snapshots of the in-flight connections that match `filter`, oldest first. */
  list(filter?: ListFilter): ConnectionInfo<M>[];
  stats(): RegistryStats;
  /** Calls `listener` for every event applied to an in-flight connection. Returns the unsubscribe function. */
  subscribe(listener: (transition: TransitionRecord) => void): () => void;
  /** Calls `listener` once per connection, at its release. Returns the unsubscribe function. */
  onRelease(listener: (released: ReleasedConnection<M>) => void): () => void;
}

const registryOptionRules = {
  clock: option.function('a function returning the time in milliseconds'),
  journalSize: option.number({ integer: true, min: 0, max: 4096 }),
  onListenerError: option.function('a function (error, context) => void'),
  onRecord: option.function('a function (record) => void'),
};

const { states: STATE_NAMES, final: FINAL, next: NEXT, handled: HANDLED, eventIndex: EVENT_INDEX, initial: INITIAL } =
  connectionTable;
const EVENT_COUNT = connectionTable.events.length;

function defaultListenerError(error: unknown, context: ListenerErrorContext): void {
  logError(`lifeline: a ${context.listener} listener threw for connection ${context.connectionId}:`, error);
}

class Entry<M> {
  lastEventAt: number;
  bytesSent = 0;
  constructor(
    readonly id: ConnectionId,
    public state: number,
    readonly transport: Transport,
    readonly meta: M | undefined,
    readonly openedAt: number,
    readonly journal: JournalRing | null,
  ) {
    this.lastEventAt = openedAt;
  }

  info(): ConnectionInfo<M> {
    return {
      id: this.id,
      state: STATE_NAMES[this.state]!,
      transport: this.transport,
      meta: this.meta,
      openedAt: this.openedAt,
      lastEventAt: this.lastEventAt,
      bytesSent: this.bytesSent,
    };
  }
}

const EMPTY_JOURNAL: readonly JournalEntry[] = Object.freeze([]);

interface Listeners<M> {
  transition: ReadonlyArray<(t: TransitionRecord) => void>;
  release: ReadonlyArray<(r: ReleasedConnection<M>) => void>;
}

class RegistryImpl<M> implements Registry<M>, Restorable<M> {
  private readonly entries = new Map<ConnectionId, Entry<M>>();
  private readonly clock: () => number;
  private readonly journalSize: number;
  private readonly onListenerError: (error: unknown, context: ListenerErrorContext) => void;
  private readonly onRecord: ((record: LogRecord) => void) | undefined;
  private readonly listeners: Listeners<M> = { transition: [], release: [] };
  private nextId = 1;
  private seq = 0;
  private opened = 0;
  private finished = 0;
  private closed = 0;
  private errored = 0;
  private lateEvents = 0;
  private unknownEvents = 0;
  private ignoredEvents = 0;

  constructor(options: RegistryOptions) {
    this.clock = options.clock ?? Date.now;
    this.journalSize = options.journalSize ?? 8;
    this.onListenerError = options.onListenerError ?? defaultListenerError;
    this.onRecord = options.onRecord;
  }

  get size(): number {
    return this.entries.size;
  }

  open(options?: OpenOptions<M>): ConnectionId {
    const id = this.nextId++;
    this.insert(id, options?.transport ?? 'http1', options?.meta, this.clock());
    return id;
  }

  [restoreOpen](id: ConnectionId, transport: Transport, meta: M | undefined, at: number): boolean {
    if (!Number.isInteger(id) || id < this.nextId) return false;
    this.nextId = id + 1;
    this.insert(id, transport, meta, at);
    return true;
  }

  private insert(id: ConnectionId, transport: Transport, meta: M | undefined, at: number): void {
    const journal = this.journalSize > 0 ? new JournalRing(this.journalSize) : null;
    this.entries.set(id, new Entry(id, INITIAL, transport, meta, at, journal));
    this.opened++;
    if (this.onRecord !== undefined) {
      const record: LogRecord =
        meta === undefined
          ? { seq: ++this.seq, id, at, kind: 'open', transport }
          : { seq: ++this.seq, id, at, kind: 'open', transport, meta };
      this.emitRecord(record);
    }
  }

  dispatch(id: ConnectionId, event: ConnectionEvent): ConnectionState | undefined {
    const entry = this.entries.get(id);
    const at = this.clock();
    if (this.onRecord !== undefined) this.emitRecord({ seq: ++this.seq, id, at, kind: 'event', event });
    if (entry === undefined) {
      // Ids are issued in order, so an id below nextId was issued and has been released.
      if (Number.isInteger(id) && id >= 1 && id < this.nextId) this.lateEvents++;
      else this.unknownEvents++;
      return undefined;
    }
    const from = entry.state;
    const e = EVENT_INDEX.get(event?.type);
    if (e === undefined) {
      this.ignoredEvents++;
      entry.lastEventAt = at;
      entry.journal?.record(at, event);
      if (this.listeners.transition.length > 0) this.notifyTransition(id, event, from, from, at, false);
      return STATE_NAMES[from];
    }
    const k = from * EVENT_COUNT + e;
    const to = NEXT[k]!;
    const handled = HANDLED[k] === 1;
    if (!handled) this.ignoredEvents++;
    entry.state = to;
    entry.lastEventAt = at;
    const bytes = (event as { bytesSent?: number }).bytesSent;
    if (bytes !== undefined) entry.bytesSent = bytes;
    entry.journal?.record(at, event);
    if (FINAL[to] === 1) {
      // Release happens here and only here: the entry leaves the map before anyone is told.
      this.entries.delete(id);
      if (to === FINISHED) this.finished++;
      else if (to === CLOSED) this.closed++;
      else this.errored++;
      if (this.listeners.transition.length > 0) this.notifyTransition(id, event, from, to, at, handled);
      if (this.listeners.release.length > 0) this.notifyRelease(entry, event, at);
      return STATE_NAMES[to];
    }
    if (this.listeners.transition.length > 0) this.notifyTransition(id, event, from, to, at, handled);
    return STATE_NAMES[to];
  }

  state(id: ConnectionId): ConnectionState | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : STATE_NAMES[entry.state];
  }

  get(id: ConnectionId): ConnectionInfo<M> | undefined {
    return this.entries.get(id)?.info();
  }

  list(filter: ListFilter = {}): ConnectionInfo<M>[] {
    const now = this.clock();
    const states = filter.state === undefined ? undefined : new Set([filter.state].flat());
    const out: ConnectionInfo<M>[] = [];
    for (const entry of this.entries.values()) {
      if (states !== undefined && !states.has(STATE_NAMES[entry.state]!)) continue;
      if (filter.transport !== undefined && entry.transport !== filter.transport) continue;
      if (filter.olderThan !== undefined && now - entry.openedAt < filter.olderThan) continue;
      if (filter.idleFor !== undefined && now - entry.lastEventAt < filter.idleFor) continue;
      out.push(entry.info());
    }
    return out;
  }

  stats(): RegistryStats {
    return {
      opened: this.opened,
      inFlight: this.entries.size,
      released: { finished: this.finished, closed: this.closed, errored: this.errored },
      lateEvents: this.lateEvents,
      unknownEvents: this.unknownEvents,
      ignoredEvents: this.ignoredEvents,
    };
  }

  subscribe(listener: (transition: TransitionRecord) => void): () => void {
    return this.addListener('transition', listener);
  }

  onRelease(listener: (released: ReleasedConnection<M>) => void): () => void {
    return this.addListener('release', listener);
  }

  /** Listener arrays are replaced, never mutated, so (un)subscribing from inside a listener is safe. */
  private addListener<K extends keyof Listeners<M>>(key: K, listener: Listeners<M>[K][number]): () => void {
    const listeners = this.listeners as Record<K, readonly unknown[]>;
    listeners[key] = [...listeners[key], listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      listeners[key] = listeners[key].filter((l) => l !== listener);
    };
  }

  private notifyTransition(
    id: ConnectionId,
    event: ConnectionEvent,
    from: number,
    to: number,
    at: number,
    handled: boolean,
  ): void {
    const record: TransitionRecord = { id, event, from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, at, handled };
    for (const listener of this.listeners.transition) {
      try {
        listener(record);
      } catch (error) {
        this.reportListenerError(error, 'transition', id);
      }
    }
  }

  private notifyRelease(entry: Entry<M>, event: ConnectionEvent, at: number): void {
    const outcome = STATE_NAMES[entry.state] as ConnectionOutcome;
    const released: ReleasedConnection<M> = {
      id: entry.id,
      state: outcome,
      outcome,
      transport: entry.transport,
      meta: entry.meta,
      openedAt: entry.openedAt,
      lastEventAt: entry.lastEventAt,
      bytesSent: entry.bytesSent,
      event,
      releasedAt: at,
      duration: at - entry.openedAt,
      journal: entry.journal === null ? EMPTY_JOURNAL : entry.journal.entries(),
    };
    for (const listener of this.listeners.release) {
      try {
        listener(released);
      } catch (error) {
        this.reportListenerError(error, 'release', entry.id);
      }
    }
  }

  private emitRecord(record: LogRecord): void {
    try {
      this.onRecord!(record);
    } catch (error) {
      this.reportListenerError(error, 'record', record.id);
    }
  }

  private reportListenerError(error: unknown, listener: ListenerErrorContext['listener'], connectionId: ConnectionId) {
    try {
      this.onListenerError(error, { listener, connectionId });
    } catch (reportError) {
      // The reporter itself failed: the hot path still must not throw.
      defaultListenerError(reportError, { listener, connectionId });
    }
  }
}

const FINISHED = connectionTable.stateIndex.get('finished')!;
const CLOSED = connectionTable.stateIndex.get('closed')!;

/**
 * Creates a registry of in-flight connections. Each connection is released
 * exactly once, synchronously, at its first terminal fact (`FINISH`, `CLOSE`
 * or `ERROR`); later facts are counted as late and change nothing.
 * Options are validated here; a bad one throws an `InvalidOptionsError` naming it.
 *
 * @example
 * ```ts
 * const registry = createRegistry({ journalSize: 8 });
 * registry.onRelease((c) => console.log(c.id, c.outcome, c.duration));
 * const id = registry.open({ transport: 'http1' });
 * registry.dispatch(id, { type: 'HEADERS', status: 200 });
 * registry.dispatch(id, { type: 'CLOSE', reason: 'aborted' }); // released as 'closed'
 * registry.size; // 0
 * ```
 */
export function createRegistry<M = unknown>(options: RegistryOptions = {}): Registry<M> {
  return new RegistryImpl<M>(checkOptions('createRegistry', options, registryOptionRules) ?? {});
}
