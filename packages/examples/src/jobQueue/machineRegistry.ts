/**
 * TEMPORARY: a registry for a machine other than the connection's, over its compiled
 * table, until `@lifeline/core` has one (`createRegistry` takes only the connection
 * machine today). It keeps the registry's one promise (each entry released exactly
 * once, at its first final state, listeners isolated) and nothing else: no journal,
 * log, replay or time. Delete this file when the core's generic registry lands.
 */
import type { CompiledMachine } from '@lifeline/core';

/** What release listeners receive, once per entry. */
export interface ReleasedEntry<O extends string, E extends { type: string }, M> {
  readonly id: number;
  readonly outcome: O;
  /** The fact that released it. */
  readonly event: E;
  readonly meta: M;
}

/** `O` names the final states (the outcomes); the table does not carry that in its type. */
export interface MachineRegistry<S extends string, E extends { type: string }, M, O extends S = S> {
  open(meta: M): number;
  /** Applies one fact; returns the state afterwards, or `undefined` for an id not in flight. Never throws. */
  dispatch(id: number, event: E): S | undefined;
  state(id: number): S | undefined;
  readonly size: number;
  /** The entries in flight in `state`, oldest first. */
  list(state: S): { readonly id: number; readonly meta: M }[];
  onRelease(listener: (released: ReleasedEntry<O, E, M>) => void): () => void;
}

/**
 * @example
 * ```ts
 * const registry = createMachineRegistry<JobState, JobEvent, string, JobOutcome>(jobTable);
 * const id = registry.open('resize images');
 * registry.dispatch(id, { type: 'CANCEL', reason: 'requested' }); // 'cancelled', released
 * ```
 */
export function createMachineRegistry<S extends string, E extends { type: string }, M, O extends S = S>(
  table: CompiledMachine<S, E['type']>,
): MachineRegistry<S, E, M, O> {
  const entries = new Map<number, { state: number; readonly meta: M }>();
  let listeners: ReadonlyArray<(released: ReleasedEntry<O, E, M>) => void> = [];
  let nextId = 1;
  return {
    open(meta) {
      entries.set(nextId, { state: table.initial, meta });
      return nextId++;
    },
    dispatch(id, event) {
      const entry = entries.get(id);
      const e = table.eventIndex.get(event?.type);
      if (entry === undefined) return undefined;
      if (e === undefined) return table.states[entry.state];
      entry.state = table.next[entry.state * table.events.length + e]!;
      const state = table.states[entry.state]!;
      if (table.final[entry.state] === 1) {
        entries.delete(id); // released here and only here, before anyone is told
        for (const listener of listeners) {
          try {
            listener({ id, outcome: state as O, event, meta: entry.meta });
          } catch (error) {
            console.error(`a release listener threw for entry ${id}:`, error);
          }
        }
      }
      return state;
    },
    state(id) {
      const entry = entries.get(id);
      return entry === undefined ? undefined : table.states[entry.state];
    },
    get size() {
      return entries.size;
    },
    list(state) {
      const index = table.stateIndex.get(state);
      return [...entries].filter(([, entry]) => entry.state === index).map(([id, { meta }]) => ({ id, meta }));
    },
    onRelease(listener) {
      listeners = [...listeners, listener];
      return () => (listeners = listeners.filter((l) => l !== listener));
    },
  };
}
