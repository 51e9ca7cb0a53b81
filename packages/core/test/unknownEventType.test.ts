import { createRegistry, type ConnectionEvent, type ReleasedConnection, type TransitionRecord } from '@lifeline/core';
import { describe, expect, it } from 'vitest';

// The hot path does not validate: an event whose type the machine does not know (a newer producer, a typo,
// a bad cast) must be counted and remembered, never thrown on, and must not move the connection.

const PING = { type: 'PING' } as unknown as ConnectionEvent;

function registryOnClock(journalSize = 8) {
  const clock = { now: 1_000 };
  const registry = createRegistry({ clock: () => clock.now, journalSize });
  const transitions: TransitionRecord[] = [];
  const released: ReleasedConnection[] = [];
  registry.subscribe((t) => transitions.push(t));
  registry.onRelease((c) => released.push(c));
  return { registry, clock, transitions, released };
}

describe('dispatching an event type the machine does not know', () => {
  it('leaves the state as it was and returns it, in open and in streaming', () => {
    const { registry } = registryOnClock();
    const id = registry.open();
    expect(registry.dispatch(id, PING)).toBe('open');
    expect(registry.state(id)).toBe('open');
    registry.dispatch(id, { type: 'HEADERS', status: 200 });
    expect(registry.dispatch(id, PING)).toBe('streaming');
    expect(registry.state(id)).toBe('streaming');
    expect(registry.size).toBe(1);
  });

  it('is counted as ignored, not as late or unknown, and releases nothing', () => {
    const { registry, released } = registryOnClock();
    const id = registry.open();
    registry.dispatch(id, PING);
    registry.dispatch(id, { type: 'SHUTDOWN' } as unknown as ConnectionEvent);
    expect(registry.stats()).toEqual({
      opened: 1,
      inFlight: 1,
      released: { finished: 0, closed: 0, errored: 0 },
      lateEvents: 0,
      unknownEvents: 0,
      ignoredEvents: 2,
    });
    expect(released).toEqual([]);
  });

  it('tells transition subscribers, with handled false and from equal to to', () => {
    const { registry, clock, transitions } = registryOnClock();
    const id = registry.open();
    registry.dispatch(id, { type: 'HEADERS', status: 200 });
    clock.now = 1_040;
    registry.dispatch(id, PING);
    expect(transitions.at(-1)).toEqual({ id, event: PING, from: 'streaming', to: 'streaming', at: 1_040, handled: false });
    expect(transitions).toHaveLength(2);
  });

  it('counts as activity: lastEventAt moves to its time, so the connection is no longer idle', () => {
    const { registry, clock } = registryOnClock();
    const id = registry.open();
    clock.now = 1_500;
    registry.dispatch(id, PING);
    expect(registry.get(id)).toMatchObject({ openedAt: 1_000, lastEventAt: 1_500, state: 'open' });
    clock.now = 1_600;
    expect(registry.list({ idleFor: 200 })).toEqual([]);
    expect(registry.list({ idleFor: 100 }).map((c) => c.id)).toEqual([id]);
  });

  it('is kept in the journal the release hands over, in dispatch order with its time', () => {
    const { registry, clock, released } = registryOnClock();
    const id = registry.open();
    clock.now = 1_010;
    registry.dispatch(id, PING);
    clock.now = 1_020;
    registry.dispatch(id, { type: 'FINISH' });
    expect(released).toHaveLength(1);
    expect(released[0]!.journal).toEqual([
      { at: 1_010, event: PING },
      { at: 1_020, event: { type: 'FINISH' } },
    ]);
    expect(released[0]!.outcome).toBe('finished');
  });

  it('goes into the event log like any other dispatched event', () => {
    const records: unknown[] = [];
    const registry = createRegistry({ clock: () => 7, onRecord: (r) => records.push(r) });
    const id = registry.open();
    registry.dispatch(id, PING);
    expect(records.at(-1)).toEqual({ seq: 2, id, at: 7, kind: 'event', event: PING });
  });

  it('does not throw for an event that is not even an object, and counts it as ignored', () => {
    const { registry, transitions } = registryOnClock();
    const id = registry.open();
    expect(registry.dispatch(id, null as unknown as ConnectionEvent)).toBe('open');
    expect(registry.dispatch(id, undefined as unknown as ConnectionEvent)).toBe('open');
    expect(registry.stats().ignoredEvents).toBe(2);
    expect(transitions.map((t) => t.handled)).toEqual([false, false]);
  });

  it('is counted the same with the journal off, and the release then hands over an empty journal', () => {
    const { registry, released } = registryOnClock(0);
    const id = registry.open();
    expect(registry.dispatch(id, PING)).toBe('open');
    registry.dispatch(id, { type: 'FINISH' });
    expect(registry.stats().ignoredEvents).toBe(1);
    expect(released.map((c) => c.journal)).toEqual([[]]);
  });

  it('is ignored like a known type the state has no transition for, unlike a handled one', () => {
    const { registry, transitions } = registryOnClock();
    const id = registry.open();
    registry.dispatch(id, { type: 'HEADERS', status: 200 });
    registry.dispatch(id, { type: 'HEADERS', status: 500 });
    registry.dispatch(id, PING);
    registry.dispatch(id, { type: 'DATA', bytesSent: 3 });
    expect(transitions.map((t) => [t.event.type, t.from, t.to, t.handled])).toEqual([
      ['HEADERS', 'open', 'streaming', true],
      ['HEADERS', 'streaming', 'streaming', false],
      ['PING', 'streaming', 'streaming', false],
      ['DATA', 'streaming', 'streaming', true],
    ]);
    expect(registry.stats().ignoredEvents).toBe(2);
  });
});
