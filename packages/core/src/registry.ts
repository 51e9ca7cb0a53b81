import type { CompiledMachine, EventOf } from './compiledMachine.js';
import { logError } from './console.js';
import type { ConnectionOutcome, ConnectionState } from './connectionMachine.js';
// Generated ahead of time from connectionMachine (scripts/generateConnectionTable.ts): compiling the
// machine here would load XState into every process that imports the registry.
import { connectionTable } from './connectionTable.generated.js';
import { InvalidArgumentError, InvalidOptionsError } from './errors.js';
import { EntryTable } from './entryTable.js';
import type { ConnectionEvent } from './events.js';
import { adoptChild, EntryExtras, parentIdOf, releaseExtras, type ConnectionHandle, type HandleHost } from './handle.js';
import { JournalRing, type JournalEntry } from './journal.js';
import type { LogRecord } from './log.js';
import { checkOptions } from './options.js';
import { registryOptionRules } from './registryOptionRules.js';
import type {
  ConnectionId,
  ConnectionInfo,
  ListFilter,
  ListenerErrorContext,
  OpenOptions,
  Registry,
  RegistryFor,
  RegistryOptions,
  RegistryStats,
  ReleasedConnection,
  TransitionRecord,
  Transport,
  WithDetail,
} from './registryTypes.js';
import { restoreOpen, type Restorable } from './restoreOpen.js';

export type * from './registryTypes.js';

function defaultListenerError(error: unknown, context: ListenerErrorContext): void {
  logError(`lifeline: a ${context.listener} listener threw for connection ${context.connectionId}:`, error);
}

/** A machine as the registry reads it: the table's arrays, any machine's. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the event type is only carried for inference
type Table = CompiledMachine<string, string, any, string>;

class Entry<M, Ev> {
  lastEventAt: number;
  bytesSent = 0;
  /** Handle, parent and children: `null` for the many connections that have none, so release checks one field. */
  extras: EntryExtras<Ev> | null = null;
  /** Made at the first event, so a connection held before anything happened costs no ring. */
  journal: JournalRing | null = null;
  constructor(
    readonly id: ConnectionId,
    public state: number,
    readonly transport: Transport,
    readonly meta: M | undefined,
    readonly openedAt: number,
  ) {
    this.lastEventAt = openedAt;
  }

  info(states: readonly string[]): ConnectionInfo<M, string> {
    return {
      id: this.id,
      state: states[this.state]!,
      transport: this.transport,
      meta: this.meta,
      openedAt: this.openedAt,
      lastEventAt: this.lastEventAt,
      bytesSent: this.bytesSent,
    };
  }
}

const byId = (a: { readonly id: number }, b: { readonly id: number }): number => a.id - b.id;

const EMPTY_JOURNAL: readonly JournalEntry<never>[] = Object.freeze([]);

interface Listeners<M, Ev> {
  transition: ReadonlyArray<(t: TransitionRecord<string, Ev>) => void>;
  release: ReadonlyArray<(r: ReleasedConnection<M, string, Ev>) => void>;
}

/**
 * One registry for every compiled machine. The table's arrays are copied into
 * fields at construction so that `dispatch` is the same array lookups whatever
 * the machine: every entry has one shape and every call site sees one class.
 */
class RegistryImpl<M, Ev extends { readonly type: string }>
  implements Registry<M, string, Ev, string>, Restorable<M>, HandleHost<Ev>
{
  private readonly entries = new EntryTable<Entry<M, Ev>>();
  private readonly clock: () => number;
  private readonly journalSize: number;
  private readonly onListenerError: (error: unknown, context: ListenerErrorContext) => void;
  private readonly onRecord: ((record: LogRecord<Ev>) => void) | undefined;
  private readonly defaultTransport: Transport;
  private readonly childEnd: Ev | undefined;
  private readonly listeners: Listeners<M, Ev> = { transition: [], release: [] };
  private readonly states: readonly string[];
  private readonly finalStates: readonly string[];
  private readonly isFinal: Uint8Array;
  /**
   * The table for `dispatch`, one number per (state, event) pair: `next * 4 + (handled ? 2 : 0) + (next is final ? 1 : 0)`.
   * One small array instead of three: `dispatch` runs once or twice per request, usually with the CPU's caches cold
   * from the server's own work in between, and each array it reads is another line to fetch.
   */
  private readonly steps: readonly number[];
  /**
   * Whether `dispatch` reads the clock first thing on every event, as it must for `onRecord` (every record has a
   * time) and for a `clock` option (which may count its calls). Otherwise it reads it only where the time is kept:
   * not for a release that no listener or handle sees, since the entry, its times and its journal go with it.
   */
  private readonly clockAlways: boolean;
  /** Transition and release listeners in all, recounted whenever either list changes: one field for the hot path to check. */
  private observed = 0;
  private readonly eventIndex: ReadonlyMap<string, number>;
  private readonly eventCount: number;
  private readonly initial: number;
  /** Releases by final state, indexed like `states`. */
  private readonly released: number[];
  /** Per event index: 1 when the event takes every non-final state to a final one (a valid `endWith`). Built on first need. */
  private endsEverywhere: Uint8Array | undefined;
  private nextId = 1;
  private seq = 0;
  private opened = 0;
  private lateEvents = 0;
  private unknownEvents = 0;
  private ignoredEvents = 0;

  constructor(where: string, table: Table, options: RegistryOptions<Ev>, defaults: { transport: Transport; childEnd: Ev | undefined }) {
    this.clock = options.clock ?? Date.now;
    this.journalSize = options.journalSize ?? 8;
    this.onListenerError = options.onListenerError ?? defaultListenerError;
    this.onRecord = options.onRecord;
    this.defaultTransport = options.transport ?? defaults.transport;
    this.childEnd = options.childEnd ?? defaults.childEnd;
    this.states = table.states;
    this.finalStates = table.finalStates;
    this.isFinal = table.final;
    this.steps = Array.from(table.next, (to, k) => to * 4 + (table.handled[k] === 1 ? 2 : 0) + (table.final[to] === 1 ? 1 : 0));
    this.clockAlways = options.clock !== undefined || options.onRecord !== undefined;
    this.eventIndex = table.eventIndex;
    this.eventCount = table.events.length;
    this.initial = table.initial;
    this.released = table.states.map(() => 0);
    // Only a given childEnd is checked here: the built-in default ends every state of its table by construction,
    // so a registry that never opens a child never builds the table of ending events.
    if (options.childEnd !== undefined && !this.endsEveryPath(options.childEnd)) {
      throw new InvalidOptionsError(`${where}: invalid options: option "childEnd": ${this.notAnEnd(options.childEnd)}`, ['childEnd']);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  open(options?: OpenOptions<M, Ev>): ConnectionId {
    const id = this.nextId++;
    if (options?.parent !== undefined) return this.openChild(id, options);
    this.insert(id, options?.transport ?? this.defaultTransport, options?.meta, this.clock());
    return id;
  }

  private openChild(id: ConnectionId, options: OpenOptions<M, Ev>): ConnectionId {
    const endWith = options.endWith ?? this.childEnd;
    if (endWith === undefined) {
      throw new InvalidArgumentError(
        'registry.open: option "endWith" is missing: a child needs the event that ends it when its parent ends. ' +
          "Pass open({ parent, endWith: { type: 'CANCEL' } }), or give the registry a childEnd option.",
        'endWith',
      );
    }
    if (!this.endsEveryPath(endWith)) throw new InvalidArgumentError(`registry.open: option "endWith": ${this.notAnEnd(endWith)}`, 'endWith');
    const entry = this.insert(id, options.transport ?? this.defaultTransport, options.meta, this.clock());
    const parent = this.entries.get(options.parent!);
    // A call on a socket that is already gone cannot run: it ends at once, as it would have with its parent.
    if (parent === undefined) this.dispatch(id, endWith);
    else adoptChild(this.extrasOf(parent), this.extrasOf(entry), endWith);
    return id;
  }

  /** True when `event` takes every non-final state to a final state: only such an event can end a child. */
  private endsEveryPath(event: Ev): boolean {
    if (this.endsEverywhere === undefined) {
      const ends = new Uint8Array(this.eventCount).fill(1);
      for (let s = 0; s < this.states.length; s++) {
        if (this.isFinal[s] === 1) continue;
        for (let e = 0; e < this.eventCount; e++) if ((this.steps[s * this.eventCount + e]! & 1) === 0) ends[e] = 0;
      }
      this.endsEverywhere = ends;
    }
    // `event` is never null here: a childEnd option was checked to be an event object, and `endWith ?? childEnd` skips a missing one.
    const e = this.eventIndex.get(event.type);
    return e !== undefined && this.endsEverywhere[e] === 1;
  }

  private notAnEnd(event: Ev): string {
    return (
      `expected an event that takes every non-final state to a final state (${this.finalStates.join(', ')}), ` +
      `received ${JSON.stringify(event.type)}, which does not`
    );
  }

  private extrasOf(entry: Entry<M, Ev>): EntryExtras<Ev> {
    return (entry.extras ??= new EntryExtras<Ev>(entry.id, this));
  }

  [restoreOpen](id: ConnectionId, transport: Transport, meta: M | undefined, at: number): boolean {
    if (!Number.isInteger(id) || id < this.nextId) return false;
    this.nextId = id + 1;
    this.insert(id, transport, meta, at);
    return true;
  }

  private insert(id: ConnectionId, transport: Transport, meta: M | undefined, at: number): Entry<M, Ev> {
    const entry = new Entry<M, Ev>(id, this.initial, transport, meta, at);
    this.entries.add(entry);
    this.opened++;
    if (this.onRecord !== undefined) {
      const record: LogRecord<Ev> =
        meta === undefined
          ? { seq: ++this.seq, id, at, kind: 'open', transport }
          : { seq: ++this.seq, id, at, kind: 'open', transport, meta };
      this.emitRecord(record);
    }
    return entry;
  }

  dispatch(id: ConnectionId, event: Ev): string | undefined {
    const entry = this.entries.get(id);
    const early = this.clockAlways ? this.clock() : undefined;
    if (this.onRecord !== undefined) this.emitRecord({ seq: ++this.seq, id, at: early!, kind: 'event', event });
    if (entry === undefined) {
      // Ids are issued in order, so an id below nextId was issued and has been released.
      if (Number.isInteger(id) && id >= 1 && id < this.nextId) this.lateEvents++;
      else this.unknownEvents++;
      return undefined;
    }
    const from = entry.state;
    const e = this.eventIndex.get(event?.type);
    if (e === undefined) {
      const at = early ?? this.clock();
      this.ignoredEvents++;
      entry.lastEventAt = at;
      if (this.journalSize !== 0) (entry.journal ??= new JournalRing(this.journalSize)).record(at, event);
      if (this.observed !== 0 && this.listeners.transition.length > 0) this.notifyTransition(id, event, from, from, at, false);
      return this.states[from];
    }
    const step = this.steps[from * this.eventCount + e]!;
    const to = step >> 2;
    const handled = (step & 2) !== 0;
    if (!handled) this.ignoredEvents++;
    entry.state = to;
    const bytes = (event as { bytesSent?: number }).bytesSent;
    if (bytes !== undefined) entry.bytesSent = bytes;
    const final = (step & 1) !== 0;
    if (final) {
      // Release happens here and only here: the entry leaves the map before anyone is told.
      this.entries.delete(id);
      this.released[to]!++;
      // Nobody can see this release (its time, its journal): the common case of a server with no listeners.
      if (this.observed === 0 && entry.extras === null) return this.states[to];
    }
    const at = early ?? this.clock();
    entry.lastEventAt = at;
    if (this.journalSize !== 0) (entry.journal ??= new JournalRing(this.journalSize)).record(at, event);
    if (this.observed !== 0 && this.listeners.transition.length > 0) this.notifyTransition(id, event, from, to, at, handled);
    if (final) {
      if (this.listeners.release.length > 0) this.notifyRelease(entry, event, at);
      if (entry.extras !== null) releaseExtras(entry.extras, this.states[to]!, event);
    }
    return this.states[to];
  }

  state(id: ConnectionId): string | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : this.states[entry.state];
  }

  get(id: ConnectionId): ConnectionInfo<M, string> | undefined {
    return this.entries.get(id)?.info(this.states);
  }

  handle(id: ConnectionId): ConnectionHandle<string, Ev> | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : this.extrasOf(entry);
  }

  list(filter: ListFilter<M, string> = {}): ConnectionInfo<M, string>[] {
    const now = this.clock();
    const states = filter.state === undefined ? undefined : new Set<string>([filter.state].flat());
    const out: ConnectionInfo<M, string>[] = [];
    for (const entry of this.entries.values()) {
      if (states !== undefined && !states.has(this.states[entry.state]!)) continue;
      if (filter.transport !== undefined && entry.transport !== filter.transport) continue;
      if (filter.olderThan !== undefined && now - entry.openedAt < filter.olderThan) continue;
      if (filter.idleFor !== undefined && now - entry.lastEventAt < filter.idleFor) continue;
      if (filter.parent !== undefined && (entry.extras === null ? undefined : parentIdOf(entry.extras)) !== filter.parent) continue;
      if (filter.meta !== undefined && !filter.meta(entry.meta)) continue;
      out.push(entry.info(this.states));
    }
    // The table keeps no order: oldest first is by id (ids are issued in order). Only what matched is sorted.
    return out.sort(byId);
  }

  stats(): RegistryStats<string> {
    const released: Record<string, number> = {};
    for (const name of this.finalStates) released[name] = this.released[this.states.indexOf(name)]!;
    return {
      opened: this.opened,
      inFlight: this.entries.size,
      released,
      lateEvents: this.lateEvents,
      unknownEvents: this.unknownEvents,
      ignoredEvents: this.ignoredEvents,
    };
  }

  subscribe(listener: (transition: TransitionRecord<string, Ev>) => void): () => void {
    return this.addListener('transition', listener);
  }

  onRelease(listener: (released: ReleasedConnection<M, string, Ev>) => void): () => void {
    return this.addListener('release', listener);
  }

  /** Listener arrays are replaced, never mutated, so (un)subscribing from inside a listener is safe. */
  private addListener<K extends keyof Listeners<M, Ev>>(key: K, listener: Listeners<M, Ev>[K][number]): () => void {
    const listeners = this.listeners as Record<K, readonly unknown[]>;
    listeners[key] = [...listeners[key], listener];
    this.recountObservers();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      // One registration goes: the same function subscribed twice stays subscribed once.
      const current = listeners[key];
      const at = current.indexOf(listener);
      listeners[key] = [...current.slice(0, at), ...current.slice(at + 1)];
      this.recountObservers();
    };
  }

  private recountObservers(): void {
    this.observed = this.listeners.transition.length + this.listeners.release.length;
  }

  private notifyTransition(id: ConnectionId, event: Ev, from: number, to: number, at: number, handled: boolean): void {
    const record: TransitionRecord<string, Ev> = { id, event, from: this.states[from]!, to: this.states[to]!, at, handled };
    for (const listener of this.listeners.transition) {
      try {
        listener(record);
      } catch (error) {
        this.reportListenerError(error, 'transition', id);
      }
    }
  }

  private notifyRelease(entry: Entry<M, Ev>, event: Ev, at: number): void {
    const outcome = this.states[entry.state]!;
    const released: ReleasedConnection<M, string, Ev> = {
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
      journal: entry.journal === null ? EMPTY_JOURNAL : entry.journal.entries<Ev>(),
    };
    for (const listener of this.listeners.release) {
      try {
        listener(released);
      } catch (error) {
        this.reportListenerError(error, 'release', entry.id);
      }
    }
  }

  reportEndListenerError(error: unknown, id: ConnectionId): void {
    this.reportListenerError(error, 'end', id);
  }

  private emitRecord(record: LogRecord<Ev>): void {
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

const SESSION_CLOSED: ConnectionEvent = Object.freeze({ type: 'CLOSE', reason: 'session-closed' });

/**
 * Creates a registry of in-flight connections. Each connection is released
 * exactly once, synchronously, at its first terminal fact (`FINISH`, `CLOSE`
 * or `ERROR`); later facts are counted as late and change nothing.
 * Options are validated here; a bad one throws an `InvalidOptionsError` naming it.
 * It is the registry of the connection machine: `createMachineRegistry` makes
 * the same registry for any other machine.
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
  const checked = checkOptions('createRegistry', options, registryOptionRules) ?? {};
  return new RegistryImpl<M, ConnectionEvent>('createRegistry', connectionTable as unknown as Table, checked, {
    transport: 'http1',
    childEnd: SESSION_CLOSED,
  }) as unknown as Registry<M, ConnectionState, ConnectionEvent, ConnectionOutcome>;
}

/**
 * Creates a registry for any machine `compileMachine` accepts: the same
 * registry as {@link createRegistry} (exactly-once release at the first final
 * state, journal, event log and replay, stats by outcome, `list`, handles and
 * groups), with states, events and outcomes typed from the compiled table.
 * A connection's outcome is the final state it was released in.
 *
 * @example
 * ```ts
 * const jobTable = compileMachine(jobMachine, { finalStates: ['done', 'cancelled', 'failed'] });
 * const jobs = createMachineRegistry(jobTable, { transport: 'queue', childEnd: { type: 'CANCEL' } });
 * const id = jobs.open({ meta: { name: 'resize' } });
 * jobs.dispatch(id, { type: 'START' });
 * jobs.dispatch(id, { type: 'COMPLETE', detail: { worker: 3 } }); // 'done': released
 * jobs.stats().released; // { done: 1, cancelled: 0, failed: 0 }
 * ```
 */
export function createMachineRegistry<T extends Table, M = unknown>(
  table: T,
  options: RegistryOptions<WithDetail<EventOf<T>>> = {},
): RegistryFor<T, M> {
  if (!isTable(table)) {
    throw new InvalidArgumentError(
      'createMachineRegistry: argument "table" must be a compiled machine: pass compileMachine(yourMachine), not the machine itself.',
      'table',
    );
  }
  const checked = checkOptions('createMachineRegistry', options, registryOptionRules) ?? {};
  return new RegistryImpl<M, { type: string }>('createMachineRegistry', table, checked as unknown as RegistryOptions<{ type: string }>, {
    transport: 'none',
    childEnd: undefined,
  }) as unknown as RegistryFor<T, M>;
}

function isTable(value: unknown): value is Table {
  const t = value as Partial<Table> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    Array.isArray(t.states) &&
    Array.isArray(t.finalStates) &&
    t.next instanceof Uint8Array &&
    t.final instanceof Uint8Array &&
    t.handled instanceof Uint8Array &&
    t.eventIndex instanceof Map
  );
}
