import { initialTransition, transition, type AnyStateMachine, type AnyStateNode, type EventFromLogic, type StateValueFrom } from 'xstate';
import type { CompiledMachine } from './compiledMachine.js';
// Shared code comes through the package's root (a self-reference): this subpath's bundle then uses the
// root's classes and constants instead of carrying copies of them.
import { UncompilableMachineError } from '@lifeline/core';

export type { CompiledMachine } from './compiledMachine.js';

// Only the root and its direct children are ever checked (deeper ones are refused with their parent), so a
// state's key is its whole path.
function describe(node: AnyStateNode): string {
  return node.path.length === 0 ? 'the root' : `state "${node.key}"`;
}

function refuse(node: AnyStateNode, what: string): never {
  throw new UncompilableMachineError(
    `compileMachine: ${describe(node)} has ${what}; a state × event table cannot reproduce it. ` +
      'Keep the machine flat, with static targets and no guards, delays, eventless transitions or invoked actors.',
    node.path.length === 0 ? undefined : node.key,
  );
}

function checkNode(node: AnyStateNode, isRoot: boolean): void {
  if (node.type === 'parallel') refuse(node, 'parallel regions');
  if (node.type === 'history') refuse(node, 'a history state');
  if (!isRoot && node.type === 'compound') refuse(node, 'nested states');
  if (node.after.length > 0) refuse(node, 'delayed (after) transitions');
  if (node.always !== undefined && node.always.length > 0) refuse(node, 'eventless (always) transitions');
  if (node.invoke.length > 0) refuse(node, 'invoked actors');
  for (const [eventType, list] of node.transitions) {
    if (eventType.includes('*')) refuse(node, `a wildcard transition ("${eventType}")`);
    for (const t of list) if (t.guard !== undefined) refuse(node, `a guarded transition on "${eventType}"`);
  }
}

/** Options of {@link compileMachine}. */
export interface CompileOptions<E extends string = string, F extends string = string> {
  /**
   * The full event vocabulary, in the order the table should use. Event types
   * that some state handles are added after these even if not listed.
   */
  events?: readonly E[];
  /**
   * The machine's final states, declared so that the table's outcome type is
   * exactly these (XState's types do not say which states are final). Checked:
   * a list that differs from the machine's final states throws.
   */
  finalStates?: readonly F[];
}

/** The flat states of a machine, as XState's types infer them. */
export type MachineStateOf<T extends AnyStateMachine> = Extract<StateValueFrom<T>, string>;
/** The events of a machine, as XState's types infer them. */
export type MachineEventOf<T extends AnyStateMachine> = EventFromLogic<T>;

/**
 * Refuses a machine some run of which never ends: one with no final state, or
 * one in which a state reachable from the initial one has no path to a final
 * state. Every connection of a registry must be able to reach a release.
 */
function checkEveryPathCanEnd(root: AnyStateNode, states: readonly string[], eventCount: number, initial: number, final: Uint8Array, next: Uint8Array): void {
  if (!final.includes(1)) {
    throw new UncompilableMachineError(
      'compileMachine: the machine has no final state, so no connection of it could ever be released. Mark its end states with type: "final".',
    );
  }
  const successors = (s: number) => next.subarray(s * eventCount, (s + 1) * eventCount);
  const reachable = new Set<number>([initial]);
  for (const s of reachable) for (const t of successors(s)) reachable.add(t);
  // Backwards from the final states: a state can end if some event takes it to a state that can end.
  const canEnd = final.slice();
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of states.keys()) {
      if (canEnd[s] === 1) continue;
      if (successors(s).some((t) => canEnd[t] === 1)) {
        canEnd[s] = 1;
        changed = true;
      }
    }
  }
  for (const s of reachable) {
    if (canEnd[s] === 1) continue;
    const name = states[s]!;
    throw new UncompilableMachineError(
      `compileMachine: state "${name}" is reachable but cannot reach a final state: a connection that enters it is never released. ` +
        'Give it a transition (directly or through other states) to a final state.',
      name,
    );
  }
}

/**
 * Enumerates every state × event type of `machine` through XState's own
 * `transition` once, and returns the result as an integer table. It throws an
 * {@link UncompilableMachineError} for a machine whose next state could depend
 * on anything but the current state and the event type (guards, delays,
 * eventless transitions, invoked actors, nested or parallel states, wildcards),
 * for a machine with no final state, and for one in which a reachable state
 * has no path to a final state (the error's `state` names it).
 *
 * The table's types come from the machine: its states, its event union, and
 * its final states when `finalStates` declares them (else any state).
 * Hand the table to `createMachineRegistry` for a registry of that machine.
 *
 * @example
 * ```ts
 * const table = compileMachine(connectionMachine, { finalStates: ['finished', 'closed', 'errored'] });
 * const s = table.next[table.initial * table.events.length + table.eventIndex.get('HEADERS')!];
 * table.states[s]; // 'streaming'
 * ```
 */
export function compileMachine<T extends AnyStateMachine, const F extends MachineStateOf<T> = MachineStateOf<T>>(
  machine: T,
  options: CompileOptions<MachineEventOf<T>['type'], F> = {},
): CompiledMachine<MachineStateOf<T>, MachineEventOf<T>['type'], MachineEventOf<T>, F> {
  type S = MachineStateOf<T>;
  type E = MachineEventOf<T>['type'];
  return compileAny(machine as AnyStateMachine, options) as CompiledMachine<S, E, MachineEventOf<T>, F>;
}

function compileAny(machine: AnyStateMachine, options: CompileOptions): CompiledMachine {
  type S = string;
  type E = string;
  type F = string;
  const root = machine.root;
  checkNode(root, true);
  const states = Object.keys(root.states) as S[];
  if (states.length === 0) refuse(root, 'no child states');
  if (states.length > 255) refuse(root, 'more than 255 states');
  for (const name of states) checkNode(root.states[name]!, false);

  // Every event type some state handles (targetless ones included), after the given vocabulary.
  const seen = new Set<string>(options.events ?? []);
  for (const node of [root, ...states.map((name) => root.states[name]!)]) {
    for (const type of node.transitions.keys()) if (!type.startsWith('xstate.')) seen.add(type);
  }
  const events = [...seen] as E[];
  const stateIndex = new Map<string, number>(states.map((s, i) => [s, i]));
  const eventIndex = new Map<string, number>(events.map((e, i) => [e, i]));

  const [initialSnapshot] = initialTransition(machine);
  // A value that is not a flat state's name (an object, for nested or odd roots) is in no index.
  const initial = stateIndex.get(initialSnapshot.value as string);
  if (initial === undefined) refuse(root, `an initial state value XState reports as ${JSON.stringify(initialSnapshot.value)}`);

  const final = new Uint8Array(states.length);
  const next = new Uint8Array(states.length * events.length);
  const handled = new Uint8Array(states.length * events.length);
  states.forEach((name, s) => {
    const snapshot = machine.resolveState({ value: name, context: initialSnapshot.context });
    final[s] = snapshot.status === 'done' ? 1 : 0;
    events.forEach((type, e) => {
      const event = { type };
      const [after] = transition(machine, snapshot, event);
      const target = stateIndex.get(after.value as string);
      if (target === undefined) {
        refuse(root, `a transition from "${name}" on "${type}" to ${JSON.stringify(after.value)}`);
      }
      next[s * events.length + e] = target;
      handled[s * events.length + e] = snapshot.status === 'done' ? 0 : machine.getTransitionData(snapshot, event).length > 0 ? 1 : 0;
    });
  });

  checkEveryPathCanEnd(root, states, events.length, initial, final, next);
  const finalStates = states.filter((_, s) => final[s] === 1) as F[];
  if (options.finalStates !== undefined) {
    const declared = [...options.finalStates].sort();
    if (declared.join('\u0000') !== [...finalStates].sort().join('\u0000')) {
      throw new UncompilableMachineError(
        `compileMachine: option finalStates ${JSON.stringify(options.finalStates)} differs from the machine's final states ${JSON.stringify(finalStates)}.`,
      );
    }
  }
  return { states, events, initial, final, finalStates, next, handled, eventIndex, stateIndex };
}
