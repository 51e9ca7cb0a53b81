import { initialTransition, transition, type AnyStateMachine, type AnyStateNode } from 'xstate';
import type { CompiledMachine } from './compiledMachine.js';
// Shared code comes through the package's root (a self-reference): this subpath's bundle then uses the
// root's classes and constants instead of carrying copies of them.
import { UncompilableMachineError } from '@lifeline/core';

export type { CompiledMachine } from './compiledMachine.js';

function describe(node: AnyStateNode): string {
  return node.path.length === 0 ? 'the root' : `state "${node.path.join('.')}"`;
}

function refuse(node: AnyStateNode, what: string): never {
  throw new UncompilableMachineError(
    `compileMachine: ${describe(node)} has ${what}; a state × event table cannot reproduce it. ` +
      'Keep the machine flat, with static targets and no guards, delays, eventless transitions or invoked actors.',
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
export interface CompileOptions<E extends string> {
  /**
   * The full event vocabulary, in the order the table should use. Event types
   * that some state handles are added after these even if not listed.
   */
  events?: readonly E[];
}

/**
 * Enumerates every state × event type of `machine` through XState's own
 * `transition` once, and returns the result as an integer table. It throws an
 * {@link UncompilableMachineError} for a machine whose next state could depend
 * on anything but the current state and the event type (guards, delays,
 * eventless transitions, invoked actors, nested or parallel states, wildcards).
 *
 * @example
 * ```ts
 * const table = compileMachine(connectionMachine);
 * const s = table.next[table.initial * table.events.length + table.eventIndex.get('HEADERS')!];
 * table.states[s]; // 'streaming'
 * ```
 */
export function compileMachine<S extends string = string, E extends string = string>(
  machine: AnyStateMachine,
  options: CompileOptions<E> = {},
): CompiledMachine<S, E> {
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
  const initialValue = initialSnapshot.value;
  if (typeof initialValue !== 'string' || !stateIndex.has(initialValue)) {
    refuse(root, `an initial state value XState reports as ${JSON.stringify(initialValue)}`);
  }

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
      if (typeof after.value !== 'string' || target === undefined) {
        refuse(root, `a transition from "${name}" on "${type}" to ${JSON.stringify(after.value)}`);
      }
      next[s * events.length + e] = target;
      handled[s * events.length + e] = snapshot.status === 'done' ? 0 : machine.getTransitionData(snapshot, event).length > 0 ? 1 : 0;
    });
  });

  return { states, events, initial: stateIndex.get(initialValue as string)!, final, next, handled, eventIndex, stateIndex };
}
