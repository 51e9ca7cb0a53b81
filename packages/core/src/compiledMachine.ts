/** Type-only key: carries a table's event type (the machine's event union) without a runtime field. */
declare const eventOfTable: unique symbol;

/**
 * A state machine projected to a dense integer table. `next[state * events.length + event]`
 * is the next state's index; `handled` says whether the machine had a transition
 * for that pair at all (an unhandled event leaves the state as it is).
 *
 * `S` are its states, `E` its event types, `Ev` its events (what a registry of it
 * dispatches) and `F` its final states (the outcomes a released connection can have).
 */
export interface CompiledMachine<
  S extends string = string,
  E extends string = string,
  Ev extends { readonly type: E } = { readonly type: E },
  F extends S = S,
> {
  /** State names; a state's index is its position here. */
  readonly states: readonly S[];
  /** Event types; an event's index is its position here. */
  readonly events: readonly E[];
  /** Index of the initial state. */
  readonly initial: number;
  /** `1` where the state is final. */
  readonly final: Uint8Array;
  /** The final states' names, in the order of `states`: the outcomes a registry of this machine reports. */
  readonly finalStates: readonly F[];
  /** Next-state table, `states.length × events.length`. */
  readonly next: Uint8Array;
  /** `1` where the machine has a transition for the pair (even a targetless one). */
  readonly handled: Uint8Array;
  /** Event type → index, for the hot path. */
  readonly eventIndex: ReadonlyMap<string, number>;
  /** State name → index. */
  readonly stateIndex: ReadonlyMap<string, number>;
  /** Never present at runtime: it only carries the event type for inference. */
  readonly [eventOfTable]?: Ev;
}

/** The states of a compiled machine. */
export type StateOf<T> = T extends { readonly states: readonly (infer S extends string)[] } ? S : never;
/** The events of a compiled machine. */
export type EventOf<T> = T extends { readonly [eventOfTable]?: infer Ev } ? Exclude<Ev, undefined> : never;
/** The final states (outcomes) of a compiled machine. */
export type OutcomeOf<T> = T extends { readonly finalStates: readonly (infer F extends string)[] } ? F : never;

/** A {@link CompiledMachine} as plain JSON-able data: what a generated module holds. */
export interface CompiledMachineData<S extends string = string, E extends string = string> {
  readonly states: readonly S[];
  readonly events: readonly E[];
  readonly initial: number;
  readonly final: readonly number[];
  readonly next: readonly number[];
  readonly handled: readonly number[];
}

/** Rebuilds the lookup structures of a table from its plain data. */
export function tableFromData<
  S extends string,
  E extends string,
  Ev extends { readonly type: E } = { readonly type: E },
  F extends S = S,
>(data: CompiledMachineData<S, E>): CompiledMachine<S, E, Ev, F> {
  return {
    states: data.states,
    events: data.events,
    initial: data.initial,
    final: Uint8Array.from(data.final),
    finalStates: data.states.filter((_, s) => data.final[s] === 1) as F[],
    next: Uint8Array.from(data.next),
    handled: Uint8Array.from(data.handled),
    eventIndex: new Map(data.events.map((e, i) => [e, i])),
    stateIndex: new Map(data.states.map((s, i) => [s, i])),
  };
}

/** The plain data of a table, for writing it out as a module. */
export function tableToData<S extends string, E extends string>(table: CompiledMachine<S, E, any, any>): CompiledMachineData<S, E> {
  return {
    states: [...table.states],
    events: [...table.events],
    initial: table.initial,
    final: [...table.final],
    next: [...table.next],
    handled: [...table.handled],
  };
}
