import { UncompilableMachineError } from '@lifeline/core';
import { compileMachine } from '@lifeline/core/machine';
import { describe, expect, it } from 'vitest';
import { createMachine, fromPromise, setup, type AnyStateMachine } from 'xstate';

// compileMachine turns a machine into a state × event table; it must refuse, naming the culprit, every machine
// whose next state could depend on anything but the current state and the event type. Every machine below
// is otherwise sound (each state can reach the final state `done`), so the feature named is the only reason.

const done = { type: 'final' as const };

function refusal(machine: AnyStateMachine): UncompilableMachineError {
  try {
    compileMachine(machine);
  } catch (error) {
    if (error instanceof UncompilableMachineError) return error;
    throw error;
  }
  throw new Error('compileMachine accepted the machine');
}

function flatStates(count: number) {
  const states: Record<string, object> = {};
  for (let i = 0; i < count - 1; i++) states[`s${i}`] = { on: { NEXT: `s${i + 1}` } };
  states[`s${count - 1}`] = done;
  return states;
}

const refused: [string, () => AnyStateMachine, string][] = [
  [
    'a history state',
    () => createMachine({ initial: 'a', states: { a: { on: { END: 'done', BACK: 'h' } }, h: { type: 'history' }, done } }),
    'state "h" has a history state',
  ],
  [
    'an actor invoked by a state',
    () =>
      createMachine({
        initial: 'a',
        states: { a: { invoke: { src: fromPromise(async () => 1) }, on: { END: 'done' } }, done },
      }),
    'state "a" has invoked actors',
  ],
  [
    'an actor invoked by the root',
    () => createMachine({ initial: 'a', invoke: { src: fromPromise(async () => 1) }, states: { a: { on: { END: 'done' } }, done } }),
    'the root has invoked actors',
  ],
  [
    'an eventless (always) transition',
    () => createMachine({ initial: 'a', states: { a: { on: { END: 'done' } }, b: { always: 'a' }, done } }),
    'state "b" has eventless (always) transitions',
  ],
  [
    'an eventless transition on the root',
    () => createMachine({ initial: 'a', always: { target: '.done' }, states: { a: { on: { END: 'done' } }, done } }),
    'the root has eventless (always) transitions',
  ],
  [
    'a delayed transition',
    () => createMachine({ initial: 'a', states: { a: { on: { END: 'done' } }, b: { after: { 100: 'done' } }, done } }),
    'state "b" has delayed (after) transitions',
  ],
  [
    'a delayed transition on the root',
    () => createMachine({ initial: 'a', after: { 100: '.done' }, states: { a: { on: { END: 'done' } }, done } }),
    'the root has delayed (after) transitions',
  ],
  [
    'a guarded transition',
    () =>
      setup({ guards: { allowed: () => true } }).createMachine({
        initial: 'a',
        states: { a: { on: { END: 'done', GO: { guard: 'allowed', target: 'done' } } }, done },
      }),
    'state "a" has a guarded transition on "GO"',
  ],
  [
    'a guarded transition on the root',
    () =>
      setup({ guards: { allowed: () => true } }).createMachine({
        initial: 'a',
        on: { STOP: { guard: 'allowed', target: '.done' } },
        states: { a: { on: { END: 'done' } }, done },
      }),
    'the root has a guarded transition on "STOP"',
  ],
  [
    'a wildcard transition',
    () => createMachine({ initial: 'a', states: { a: { on: { '*': 'done' } }, done } }),
    'state "a" has a wildcard transition ("*")',
  ],
  [
    'a partial wildcard transition',
    () => createMachine({ initial: 'a', states: { a: { on: { 'END.*': 'done' } }, done } }),
    'state "a" has a wildcard transition ("END.*")',
  ],
  ['parallel regions at the root', () => createMachine({ type: 'parallel', states: { a: {}, b: {} } }), 'the root has parallel regions'],
  [
    'a parallel state',
    () => createMachine({ initial: 'a', states: { a: { type: 'parallel', states: { x: {}, y: {} }, on: { END: 'done' } }, done } }),
    'state "a" has parallel regions',
  ],
  [
    'nested states',
    () => createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} }, on: { END: 'done' } }, done } }),
    'state "a" has nested states',
  ],
  ['no states at all', () => createMachine({}), 'the root has no child states'],
  ['256 states', () => createMachine({ initial: 's0', states: flatStates(256) }), 'the root has more than 255 states'],
  [
    // A root declared atomic keeps its children but XState resolves its value to `{}`, not one of them.
    'an initial state XState cannot resolve to one of the states',
    () => createMachine({ type: 'atomic', initial: 'a', states: { a: { on: { END: 'done' } }, done } } as never),
    'the root has an initial state value XState reports as {}',
  ],
];

describe('compileMachine refuses what a state × event table cannot reproduce', () => {
  it.each(refused)('refuses %s, naming where it is', (_what, make, where) => {
    const error = refusal(make());
    expect(error.code).toBe('LIFELINE_UNCOMPILABLE_MACHINE');
    expect(error.name).toBe('UncompilableMachineError');
    expect(error.message).toContain(`compileMachine: ${where}`);
  });

  it.each(refused)('refusing %s, names the offending state in the error, or none for the root', (_what, make, where) => {
    expect(refusal(make()).state).toBe(/^state "(.*?)"/.exec(where)?.[1]);
  });

  it.each(refused)('refusing %s, says how to make the machine compilable', (_what, make) => {
    expect(refusal(make()).message).toMatch(
      /Keep the machine flat, with static targets and no guards, delays, eventless transitions or invoked actors\.$/,
    );
  });

  it('refuses a transition XState reports as landing outside the flat states, naming the source and the event', () => {
    // No flat XState machine lands in a nested value today; this logic reports one for `FINISH` to check the
    // table never records a target it cannot name.
    const machine = createMachine({ initial: 'a', states: { a: { on: { FINISH: 'done' } }, done } });
    const nested = Object.create(machine) as AnyStateMachine;
    nested.transition = (snapshot, event, scope) => {
      const next = machine.transition(snapshot, event, scope);
      return next.value === 'done' ? Object.assign(Object.create(Object.getPrototypeOf(next)), next, { value: { done: 'inner' } }) : next;
    };
    expect(refusal(nested).message).toContain('a transition from "a" on "FINISH" to {"done":"inner"}');
  });

  it('accepts a state whose list of eventless transitions is empty: it has none', () => {
    const table = compileMachine(createMachine({ initial: 'a', states: { a: { always: [], on: { END: 'done' } }, done } }));
    expect(table.states).toEqual(['a', 'done']);
  });

  it('accepts 255 states, the most a byte-wide table can index', () => {
    const table = compileMachine(createMachine({ initial: 's0', states: flatStates(255) }));
    expect(table.states).toHaveLength(255);
    expect(table.states[table.next[253 * table.events.length]!]).toBe('s254');
  });
});

describe('compileMachine on a small sound machine', () => {
  const job = createMachine({
    id: 'job',
    initial: 'queued',
    onDone: { actions: () => {} },
    states: {
      queued: { on: { START: 'running', CANCEL: 'cancelled' } },
      running: { on: { PROGRESS: {}, FINISH: 'succeeded', CANCEL: 'cancelled' } },
      succeeded: done,
      cancelled: done,
    },
  });

  it('lists the states in order and the given vocabulary first, then the types some state handles', () => {
    const table = compileMachine(job, { events: ['PING', 'CANCEL'] });
    expect(table.states).toEqual(['queued', 'running', 'succeeded', 'cancelled']);
    // XState's own done event of the root is not part of the vocabulary.
    expect(table.events).toEqual(['PING', 'CANCEL', 'START', 'PROGRESS', 'FINISH']);
    expect([...table.eventIndex]).toEqual(table.events.map((e, i) => [e, i]));
    expect([...table.stateIndex]).toEqual(table.states.map((s, i) => [s, i]));
    expect(table.initial).toBe(0);
    expect([...table.final]).toEqual([0, 0, 1, 1]);
  });

  it('pins next and handled for every state × event pair', () => {
    const table = compileMachine(job, { events: ['PING', 'CANCEL'] });
    const E = table.events.length;
    const row = (state: string) =>
      Object.fromEntries(
        table.events.map((type, e) => {
          const k = table.stateIndex.get(state)! * E + e;
          return [type, `${table.states[table.next[k]!]}${table.handled[k] === 1 ? '' : ' (unhandled)'}`];
        }),
      );
    expect(row('queued')).toEqual({
      PING: 'queued (unhandled)',
      CANCEL: 'cancelled',
      START: 'running',
      PROGRESS: 'queued (unhandled)',
      FINISH: 'queued (unhandled)',
    });
    // A targetless transition is handled and stays put.
    expect(row('running')).toEqual({
      PING: 'running (unhandled)',
      CANCEL: 'cancelled',
      START: 'running (unhandled)',
      PROGRESS: 'running',
      FINISH: 'succeeded',
    });
    // Final states handle nothing and stay where they are.
    for (const final of ['succeeded', 'cancelled']) {
      expect(Object.values(row(final))).toEqual(Array(E).fill(`${final} (unhandled)`));
    }
  });

  it('a final state handles nothing, not even an event the root has a transition for', () => {
    const table = compileMachine(
      createMachine({ initial: 'a', on: { PING: {} }, states: { a: { on: { END: 'done' } }, done } }),
    );
    const handled = (state: string) => table.events.map((_, e) => table.handled[table.stateIndex.get(state)! * table.events.length + e]);
    expect(table.events).toEqual(['PING', 'END']);
    expect([handled('a'), handled('done')]).toEqual([
      [1, 1],
      [0, 0],
    ]);
  });

  it('without a vocabulary, the events are those the states handle, in the order first met', () => {
    expect(compileMachine(job).events).toEqual(['START', 'CANCEL', 'PROGRESS', 'FINISH']);
  });
});
