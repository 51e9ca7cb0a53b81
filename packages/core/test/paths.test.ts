import { describe, expect, it } from 'vitest';
import { getSimplePaths } from 'xstate/graph';
import { connectionMachine } from '../src/connectionMachine.js';
import type { ConnectionEvent } from '../src/events.js';
import { fakeClockRegistry } from './fixtures.js';

// One representative of each event type, and every reason of the terminal ones.
const events: ConnectionEvent[] = [
  { type: 'HEADERS', status: 200 },
  { type: 'DATA', bytesSent: 10 },
  { type: 'REQUEST_END' },
  { type: 'FINISH' },
  { type: 'CLOSE', reason: 'aborted' },
  { type: 'CLOSE', reason: 'cancelled' },
  { type: 'ERROR', reason: 'stream-error', error: { name: 'Error', message: 'boom', code: 'ENOENT' } },
  { type: 'ERROR', reason: 'timeout' },
];

describe('every simple path of the machine (xstate/graph)', () => {
  const paths = getSimplePaths(connectionMachine, { events });
  const toFinal = paths.filter((p) => p.state.status === 'done');
  const eventsOf = (path: (typeof paths)[number]) => path.steps.map((s) => s.event).filter((e) => (e.type as string) !== 'xstate.init');

  it('enumerates paths to each final state from open and through streaming', () => {
    const ends = new Set(toFinal.map((p) => `${eventsOf(p).length > 1 ? 'via' : 'direct'}:${String(p.state.value)}`));
    for (const f of ['finished', 'closed', 'errored']) {
      expect(ends.has(`direct:${f}`), `open → ${f}`).toBe(true);
      expect(ends.has(`via:${f}`), `open → streaming → ${f}`).toBe(true);
    }
  });

  it('finds every path (2 non-final states, REQUEST_END loops are not simple)', () => {
    // Direct: 5 terminal events from open. Via streaming: (HEADERS | DATA) then 5 terminal events.
    expect(toFinal.length).toBe(5 + 2 * 5);
  });

  it('releases exactly once with the path’s final state, at the path’s last event', () => {
    for (const path of toFinal) {
      const { registry } = fakeClockRegistry();
      const released: string[] = [];
      registry.onRelease((c) => released.push(c.outcome));
      const id = registry.open();
      const pathEvents = eventsOf(path);
      pathEvents.forEach((event, i) => {
        registry.dispatch(id, event);
        expect(released.length, `released early on ${JSON.stringify(pathEvents)}`).toBe(i === pathEvents.length - 1 ? 1 : 0);
      });
      expect(released).toEqual([path.state.value]);
      expect(registry.size).toBe(0);
    }
  });

  it('every non-final state reached by a path can still reach every final state directly', () => {
    const nonFinal = new Set(paths.filter((p) => p.state.status !== 'done').map((p) => String(p.state.value)));
    expect([...nonFinal].sort()).toEqual(['open', 'streaming']);
    for (const state of nonFinal) {
      for (const [event, outcome] of [
        [{ type: 'FINISH' }, 'finished'],
        [{ type: 'CLOSE', reason: 'reset' }, 'closed'],
        [{ type: 'ERROR', reason: 'shutdown' }, 'errored'],
      ] as const) {
        const { registry } = fakeClockRegistry();
        const id = registry.open();
        if (state === 'streaming') registry.dispatch(id, { type: 'HEADERS' });
        expect(registry.dispatch(id, event)).toBe(outcome);
      }
    }
  });
});
