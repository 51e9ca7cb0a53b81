import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMachine, initialTransition, setup, transition } from 'xstate';
import { compileMachine } from '../src/compile.js';
import { connectionMachine } from '../src/connectionMachine.js';
import { UncompilableMachineError } from '../src/errors.js';
import { connectionEventTypes } from '../src/events.js';
import { connectionTable } from '../src/connectionTable.generated.js';
import { jobMachine, jobTable } from './jobMachine.js';
import { connectionEventArbitrary } from '../src/testing/index.js';

describe('the compiled table and XState agree on every transition', () => {
  const E = connectionTable.events.length;

  it('covers exactly the machine’s states and the full event vocabulary', () => {
    expect(connectionTable.states).toEqual(['open', 'streaming', 'finished', 'closed', 'errored']);
    expect([...connectionTable.events].sort()).toEqual([...connectionEventTypes].sort());
    expect(connectionTable.states[connectionTable.initial]).toBe('open');
    expect([...connectionTable.final]).toEqual([0, 0, 1, 1, 1]);
  });

  it('agrees with XState’s transition() on every state × event pair', () => {
    let pairs = 0;
    connectionTable.states.forEach((name, s) => {
      const snapshot = connectionMachine.resolveState({ value: name, context: {} });
      connectionTable.events.forEach((type, e) => {
        const [next] = transition(connectionMachine, snapshot, { type } as never);
        expect(connectionTable.states[connectionTable.next[s * E + e]!], `${name} × ${type}`).toBe(next.value);
        pairs++;
      });
    });
    expect(pairs).toBe(5 * 6);
  });

  it('agrees with XState’s transition() along random event sequences', () => {
    fc.assert(
      fc.property(fc.array(connectionEventArbitrary(), { maxLength: 12 }), (events) => {
        let [snapshot] = initialTransition(connectionMachine);
        let s = connectionTable.initial;
        for (const event of events) {
          [snapshot] = transition(connectionMachine, snapshot, event);
          s = connectionTable.next[s * E + connectionTable.eventIndex.get(event.type)!]!;
          expect(connectionTable.states[s]).toBe(snapshot.value);
          expect(connectionTable.final[s] === 1).toBe(snapshot.status === 'done');
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('marks as unhandled exactly the pairs XState has no transition for', () => {
    const unhandled: string[] = [];
    connectionTable.states.forEach((name, s) =>
      connectionTable.events.forEach((type, e) => {
        if (connectionTable.handled[s * E + e] === 0) unhandled.push(`${name}:${type}`);
      }),
    );
    const finals = ['finished', 'closed', 'errored'].flatMap((f) => connectionEventTypes.map((t) => `${f}:${t}`));
    expect(unhandled.sort()).toEqual(['streaming:HEADERS', ...finals].sort());
  });
});

describe('compileMachine refuses machines it cannot reproduce', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'guards',
      () =>
        setup({ guards: { ok: () => true } }).createMachine({
          initial: 'a',
          states: { a: { on: { GO: { guard: 'ok', target: 'b' } } }, b: {} },
        }),
      /state "a" has a guarded transition on "GO"/,
    ],
    ['delays', () => createMachine({ initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } }), /delayed \(after\)/],
    ['eventless transitions', () => createMachine({ initial: 'a', states: { a: { always: 'b' }, b: {} } }), /eventless/],
    [
      'nested states',
      () => createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } }),
      /state "a" has nested states/,
    ],
    [
      'parallel regions',
      () => createMachine({ type: 'parallel', states: { a: {}, b: {} } }),
      /the root has parallel regions/,
    ],
    ['wildcards', () => createMachine({ initial: 'a', states: { a: { on: { '*': 'b' } }, b: {} } }), /wildcard/],
  ];
  it.each(cases)('refuses %s with a clear error', (_name, make, message) => {
    const machine = make() as Parameters<typeof compileMachine>[0];
    expect(() => compileMachine(machine)).toThrow(UncompilableMachineError);
    expect(() => compileMachine(machine)).toThrow(message);
    try {
      compileMachine(machine);
    } catch (error) {
      expect((error as UncompilableMachineError).code).toBe('LIFELINE_UNCOMPILABLE_MACHINE');
    }
  });

  it('compiles another flat machine (reuse for other transports)', () => {
    const socket = createMachine({
      initial: 'connecting',
      states: {
        connecting: { on: { READY: 'ready', FAIL: 'failed' } },
        ready: { on: { END: 'ended', FAIL: 'failed' } },
        ended: { type: 'final' },
        failed: { type: 'final' },
      },
    });
    const table = compileMachine(socket, { events: ['READY', 'END', 'FAIL', 'PING'] });
    expect(table.events).toEqual(['READY', 'END', 'FAIL', 'PING']);
    const E = table.events.length;
    const step = (s: number, e: string) => table.next[s * E + table.eventIndex.get(e)!]!;
    expect(table.states[step(step(table.initial, 'READY'), 'END')]).toBe('ended');
    expect(table.handled[table.initial * E + table.eventIndex.get('PING')!]).toBe(0);
  });
});

describe('compileMachine refuses machines in which some run never ends', () => {
  it('refuses a machine with no final state', () => {
    const loop = createMachine({ initial: 'idle', states: { idle: { on: { GO: 'busy' } }, busy: { on: { STOP: 'idle' } } } });
    expect(() => compileMachine(loop)).toThrow(UncompilableMachineError);
    expect(() => compileMachine(loop)).toThrow(/has no final state/);
  });

  it('refuses a machine with a reachable state that cannot reach a final state, naming that state', () => {
    const trap = createMachine({
      initial: 'queued',
      states: {
        queued: { on: { START: 'running', PARK: 'parked' } },
        running: { on: { COMPLETE: 'done' } },
        // Reachable, and every event from here leads back here or to `limbo`: no path ends.
        parked: { on: { POKE: 'limbo' } },
        limbo: { on: { POKE: 'parked' } },
        done: { type: 'final' },
      },
    });
    let error: unknown;
    try {
      compileMachine(trap);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UncompilableMachineError);
    expect((error as UncompilableMachineError).state).toMatch(/^(parked|limbo)$/);
    expect((error as Error).message).toMatch(/state "(parked|limbo)" is reachable but cannot reach a final state/);
    expect((error as Error).message).toMatch(/Give it a transition \(directly or through other states\) to a final state\.$/);
  });

  it('accepts an unreachable dead end: no connection can ever be in it', () => {
    const machine = createMachine({
      initial: 'a',
      states: { a: { on: { END: 'end' } }, orphan: { on: { X: 'orphan' } }, end: { type: 'final' } },
    });
    expect(compileMachine(machine).states).toEqual(['a', 'orphan', 'end']);
  });

  it('refuses a finalStates declaration that differs from the machine', () => {
    expect(() => compileMachine(jobMachine, { finalStates: ['done', 'cancelled'] })).toThrow(
      /option finalStates \["done","cancelled"\] differs from the machine's final states \["done","cancelled","failed"\]/,
    );
  });

  it('lists the final states in the table, in state order', () => {
    expect(jobTable.finalStates).toEqual(['done', 'cancelled', 'failed']);
    expect(connectionTable.finalStates).toEqual(['finished', 'closed', 'errored']);
  });
});
