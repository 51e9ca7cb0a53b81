import { allowManyListeners, bindToCaller } from './asyncContext.js';
import type { ConnectionOutcome } from './connectionMachine.js';
import { ConnectionEndedError } from './errors.js';
import type { ConnectionEvent } from './events.js';

/**
 * What server code holds for one connection of a registry, whatever the
 * transport: an end hook, an `AbortSignal`, and the connection's outcome once
 * it has ended. Get it with `registry.handle(id)`; it stays valid after the
 * release (it then reports the outcome). Plain `open`/`dispatch` never create
 * one: a connection pays for its handle only when someone asks for it.
 *
 * @example
 * ```ts
 * const call = registry.handle(registry.open({ parent: socketId }))!;
 * call.onEnd((outcome) => pending.delete(call.id));
 * await fetch(url, { signal: call.signal }); // aborted when the call ends
 * ```
 */
export interface ConnectionHandle<F extends string = ConnectionOutcome, Ev = ConnectionEvent> {
  /** The connection's id in its registry. */
  readonly id: number;
  /** The final state it was released in; `undefined` while in flight. */
  readonly outcome: F | undefined;
  /**
   * Aborts once, when the connection is released (whatever the outcome),
   * with a `ConnectionEndedError` (named `'AbortError'`) holding the outcome
   * and the terminal event. Created on first read: unread, it costs nothing.
   * Read after the release, it is already aborted.
   * @example `await db.query(sql, { signal: handle.signal })`
   */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once, at the release, with the outcome and the terminal
   * event, in the async context `onEnd` was called in (so an
   * `AsyncLocalStorage` store reads what it held here; in runtimes without
   * async context support, in the context of whoever ended it). If the
   * connection has ended already, `listener` is called on a microtask.
   * A listener that throws is reported through the registry's
   * `onListenerError`. Returns a function that removes the listener.
   * @example `handle.onEnd((outcome) => sessions.delete(sessionId))`
   */
  onEnd(listener: (outcome: F, event: Ev) => void): () => void;
  /**
   * Applies one fact to this connection: the same as `registry.dispatch(handle.id, event)`.
   * @example `handle.dispatch({ type: 'CLOSE', reason: 'aborted' })`
   */
  dispatch(event: Ev): string | undefined;
}

/** What a handle needs from its registry. */
export interface HandleHost<Ev> {
  dispatch(id: number, event: Ev): string | undefined;
  reportEndListenerError(error: unknown, id: number): void;
}

type EndListener = (outcome: string, event: unknown) => void;

/** The registry's own ways into an entry's extras; they are not properties, so a handle given to users does not carry them. */
export let releaseExtras: <Ev>(extras: EntryExtras<Ev>, outcome: string, event: Ev) => void;
export let adoptChild: <Ev>(parent: EntryExtras<Ev>, child: EntryExtras<Ev>, endWith: Ev) => void;
export let parentIdOf: (extras: EntryExtras<unknown>) => number | undefined;

/**
 * A registry entry's extras: its handle, its children and its parent. Only
 * entries that have one are given this object; the registry's release calls
 * {@link releaseExtras} for them alone. It is the handle users get, so the
 * group and the release live in private fields, reached by the registry
 * through the functions above.
 */
export class EntryExtras<Ev> implements ConnectionHandle<string, Ev> {
  #outcome: string | undefined;
  #event: Ev | undefined;
  #controller: AbortController | undefined;
  #listeners: EndListener[] | undefined;
  /** Open children (their extras), ended with their `endWith` when this connection is released. */
  #children: Set<EntryExtras<Ev>> | undefined;
  /** The extras of the connection this one was opened under. */
  #parent: EntryExtras<Ev> | undefined;
  /** The event that ends this connection when its parent is released. */
  #endWith: Ev | undefined;

  static {
    releaseExtras = (extras, outcome, event) => extras.#release(outcome, event);
    adoptChild = (parent, child, endWith) => {
      child.#endWith = endWith;
      child.#parent = parent;
      (parent.#children ??= new Set()).add(child);
    };
    parentIdOf = (extras) => extras.#parent?.id;
  }

  readonly #host: HandleHost<Ev>;

  constructor(
    readonly id: number,
    host: HandleHost<Ev>,
  ) {
    this.#host = host;
  }

  get outcome(): string | undefined {
    return this.#outcome;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      allowManyListeners(this.#controller.signal);
      if (this.#outcome !== undefined) this.#abort();
    }
    return this.#controller.signal;
  }

  onEnd(listener: (outcome: string, event: Ev) => void): () => void {
    const bound = bindToCaller(listener as EndListener);
    if (this.#outcome !== undefined) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) this.#call(bound);
      });
      return () => {
        cancelled = true;
      };
    }
    (this.#listeners ??= []).push(bound);
    return () => {
      const i = this.#listeners?.indexOf(bound) ?? -1;
      if (i >= 0) this.#listeners!.splice(i, 1);
    };
  }

  dispatch(event: Ev): string | undefined {
    return this.#host.dispatch(this.id, event);
  }

  /**
   * Called by the registry once, after the entry left it and release listeners
   * ran: ends the open children first (so that this connection's end listeners
   * see its whole group ended), then aborts the signal, then calls end listeners.
   */
  #release(outcome: string, event: Ev): void {
    this.#outcome = outcome;
    this.#event = event;
    if (this.#parent !== undefined) {
      this.#parent.#children?.delete(this);
      this.#parent = undefined;
    }
    if (this.#children !== undefined) {
      // Each child's release deletes it from the set; iterate over a copy.
      for (const child of [...this.#children]) if (child.#outcome === undefined) this.#host.dispatch(child.id, child.#endWith!);
      this.#children = undefined;
    }
    if (this.#controller !== undefined) this.#abort();
    if (this.#listeners !== undefined) {
      const listeners = this.#listeners;
      this.#listeners = undefined;
      for (const listener of listeners) this.#call(listener);
    }
  }

  #abort(): void {
    this.#controller!.abort(new ConnectionEndedError(this.#outcome!, this.#event as { type: string }));
  }

  #call(listener: EndListener): void {
    try {
      listener(this.#outcome!, this.#event);
    } catch (error) {
      this.#host.reportEndListenerError(error, this.id);
    }
  }
}
