/**
 * A state machine projected to a dense integer table. `next[state * events.length + event]`
 * is the next state's index; `handled` says whether the machine had a transition
 * for that pair at all (an unhandled event leaves the state as it is).
 */
export interface CompiledMachine<S extends string = string, E extends string = string> {
  /** State names; a state's index is its position here. */
  readonly states: readonly S[];
  /** Event types; an event's index is its position here. */
  readonly events: readonly E[];
  /** Index of the initial state. */
  readonly initial: number;
  /** `1` where the state is final. */
  readonly final: Uint8Array;
  /** Next-state table, `states.length × events.length`. */
  readonly next: Uint8Array;
  /** `1` where the machine has a transition for the pair (even a targetless one). */
  readonly handled: Uint8Array;
  /** Event type → index, for the hot path. */
  readonly eventIndex: ReadonlyMap<string, number>;
  /** State name → index. */
  readonly stateIndex: ReadonlyMap<string, number>;
}

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
export function tableFromData<S extends string, E extends string>(data: CompiledMachineData<S, E>): CompiledMachine<S, E> {
  return {
    states: data.states,
    events: data.events,
    initial: data.initial,
    final: Uint8Array.from(data.final),
    next: Uint8Array.from(data.next),
    handled: Uint8Array.from(data.handled),
    eventIndex: new Map(data.events.map((e, i) => [e, i])),
    stateIndex: new Map(data.states.map((s, i) => [s, i])),
  };
}

/** The plain data of a table, for writing it out as a module. */
export function tableToData<S extends string, E extends string>(table: CompiledMachine<S, E>): CompiledMachineData<S, E> {
  return {
    states: [...table.states],
    events: [...table.events],
    initial: table.initial,
    final: [...table.final],
    next: [...table.next],
    handled: [...table.handled],
  };
}
