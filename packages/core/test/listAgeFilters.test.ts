import { createRegistry } from '@lifeline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// `olderThan` means "opened at least this many ms ago" and `idleFor` "no event for at least this many ms":
// both include the connection that sits exactly on the boundary. The watchdog and drain select with them.

function registryOnClock() {
  const clock = { now: 10_000 };
  const registry = createRegistry({ clock: () => clock.now });
  return { registry, clock };
}

describe('list() age filters', () => {
  it('olderThan includes a connection opened exactly that long ago and excludes one a millisecond younger', () => {
    const { registry, clock } = registryOnClock();
    const id = registry.open();
    clock.now += 250;
    expect(registry.list({ olderThan: 250 }).map((c) => c.id)).toEqual([id]);
    expect(registry.list({ olderThan: 251 })).toEqual([]);
    expect(registry.list({ olderThan: 249 }).map((c) => c.id)).toEqual([id]);
  });

  it('idleFor includes a connection whose last event is exactly that old and excludes a fresher one', () => {
    const { registry, clock } = registryOnClock();
    const id = registry.open();
    clock.now += 1_000;
    registry.dispatch(id, { type: 'HEADERS', status: 200 });
    clock.now += 40;
    expect(registry.list({ idleFor: 40 }).map((c) => c.id)).toEqual([id]);
    expect(registry.list({ idleFor: 41 })).toEqual([]);
  });

  it('idleFor counts from the open when there was no event yet', () => {
    const { registry, clock } = registryOnClock();
    const id = registry.open();
    clock.now += 30;
    expect(registry.list({ idleFor: 30 }).map((c) => c.id)).toEqual([id]);
    expect(registry.list({ idleFor: 31 })).toEqual([]);
  });

  it('olderThan looks at the open only: a recent event does not make a connection younger', () => {
    const { registry, clock } = registryOnClock();
    const id = registry.open();
    clock.now += 500;
    registry.dispatch(id, { type: 'DATA', bytesSent: 1 });
    expect(registry.list({ olderThan: 500 }).map((c) => c.id)).toEqual([id]);
    expect(registry.list({ idleFor: 1 })).toEqual([]);
  });

  it('zero includes everything in flight, even a connection opened this very millisecond', () => {
    const { registry } = registryOnClock();
    const id = registry.open();
    expect(registry.list({ olderThan: 0, idleFor: 0 }).map((c) => c.id)).toEqual([id]);
  });

  it('both conditions must hold, together with state and transport, and the result is oldest first', () => {
    const { registry, clock } = registryOnClock();
    const old = registry.open({ transport: 'http2' });
    const oldBusy = registry.open({ transport: 'http2' });
    clock.now += 100;
    const young = registry.open({ transport: 'http2' });
    const oldHttp1 = registry.open({ transport: 'http1' });
    clock.now += 60;
    registry.dispatch(oldBusy, { type: 'HEADERS', status: 200 });
    clock.now += 10;
    // now: old and oldBusy opened 170 ms ago, young and oldHttp1 70 ms ago; oldBusy's last event 10 ms ago.
    expect(registry.list({ olderThan: 100, idleFor: 50 }).map((c) => c.id)).toEqual([old]);
    expect(registry.list({ olderThan: 70 }).map((c) => c.id)).toEqual([old, oldBusy, young, oldHttp1]);
    expect(registry.list({ olderThan: 70, transport: 'http2', state: 'open' }).map((c) => c.id)).toEqual([old, young]);
    expect(registry.list({ state: ['streaming', 'open'], idleFor: 11 }).map((c) => c.id)).toEqual([old, young, oldHttp1]);
  });

  it('selects exactly the connections with now - openedAt ≥ olderThan and now - lastEventAt ≥ idleFor', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ openAfter: fc.nat(20), eventAfter: fc.option(fc.nat(20), { nil: undefined }) }), {
          maxLength: 8,
        }),
        fc.nat(20),
        fc.option(fc.nat(60), { nil: undefined }),
        fc.option(fc.nat(60), { nil: undefined }),
        (plan, wait, olderThan, idleFor) => {
          const { registry, clock } = registryOnClock();
          const expected = new Map<number, { openedAt: number; lastEventAt: number }>();
          for (const step of plan) {
            clock.now += step.openAfter;
            const id = registry.open();
            const times = { openedAt: clock.now, lastEventAt: clock.now };
            if (step.eventAfter !== undefined) {
              clock.now += step.eventAfter;
              registry.dispatch(id, { type: 'REQUEST_END' });
              times.lastEventAt = clock.now;
            }
            expected.set(id, times);
          }
          clock.now += wait;
          const filter = { ...(olderThan === undefined ? {} : { olderThan }), ...(idleFor === undefined ? {} : { idleFor }) };
          const want = [...expected]
            .filter(([, t]) => olderThan === undefined || clock.now - t.openedAt >= olderThan)
            .filter(([, t]) => idleFor === undefined || clock.now - t.lastEventAt >= idleFor)
            .map(([id]) => id);
          expect(registry.list(filter).map((c) => c.id)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});
