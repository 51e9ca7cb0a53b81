import { createRegistry, type ConnectionEvent } from '@lifeline/core';
import { describe, expect, it } from 'vitest';

// An event for an id that is not in flight changes nothing. Ids are issued 1, 2, 3, ... so the registry can
// tell a late fact (the id was issued and has been released) from a stray one (never issued).

const FINISH: ConnectionEvent = { type: 'FINISH' };

function registryWithReleased() {
  const records: unknown[] = [];
  const registry = createRegistry({ onRecord: (r) => records.push(r) });
  const first = registry.open();
  const second = registry.open();
  registry.dispatch(first, FINISH);
  registry.dispatch(second, FINISH);
  const calls: string[] = [];
  registry.subscribe(() => calls.push('transition'));
  registry.onRelease(() => calls.push('release'));
  return { registry, records, calls, first, second };
}

describe('events for ids that are not in flight', () => {
  it('count as late for every id issued and released, the first and the last one included', () => {
    const { registry, first, second, calls } = registryWithReleased();
    expect(registry.dispatch(first, { type: 'CLOSE', reason: 'reset' })).toBeUndefined();
    expect(registry.dispatch(second, FINISH)).toBeUndefined();
    expect(registry.stats()).toMatchObject({ lateEvents: 2, unknownEvents: 0, released: { finished: 2, closed: 0, errored: 0 } });
    expect(calls).toEqual([]);
  });

  it.each([
    ['the next id, not issued yet', 3],
    ['a far larger id', 1_000],
    ['0', 0],
    ['a negative id', -1],
    ['a fractional id between issued ones', 1.5],
    ['NaN', Number.NaN],
  ])('count as unknown for %s', (_what, id) => {
    const { registry, calls } = registryWithReleased();
    expect(registry.dispatch(id, FINISH)).toBeUndefined();
    expect(registry.stats()).toMatchObject({ lateEvents: 0, unknownEvents: 1, ignoredEvents: 0, inFlight: 0 });
    expect(calls).toEqual([]);
  });

  it('are still written to the event log, as dispatched', () => {
    const { registry, records, first } = registryWithReleased();
    registry.dispatch(first, FINISH);
    registry.dispatch(42, FINISH);
    expect(records.slice(-2)).toMatchObject([
      { seq: 5, id: first, kind: 'event', event: FINISH },
      { seq: 6, id: 42, kind: 'event', event: FINISH },
    ]);
  });

  it('do not disturb the next id issued', () => {
    const { registry } = registryWithReleased();
    registry.dispatch(3, FINISH);
    expect(registry.open()).toBe(3);
    expect(registry.state(3)).toBe('open');
  });

  it('have no state and no snapshot to read: state() and get() answer undefined for released and stray ids', () => {
    const { registry, first } = registryWithReleased();
    expect([registry.state(first), registry.get(first), registry.state(99), registry.get(99)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
