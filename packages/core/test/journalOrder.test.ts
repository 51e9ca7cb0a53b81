import { createRegistry, type ConnectionEvent, type JournalEntry, type ReleasedConnection } from '@lifeline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The journal is a ring: once more events arrived than it holds, the oldest fall out. What a release hands
// over must still be exactly the newest `journalSize` events, oldest first, whatever the ring's position.

/** Opens one connection, sends it `events` then a terminal FINISH on a ticking clock, returns its release. */
function releaseAfter(journalSize: number, events: readonly ConnectionEvent[]): { released: ReleasedConnection; sent: JournalEntry[] } {
  let now = 0;
  const registry = createRegistry({ clock: () => now, journalSize });
  const released: ReleasedConnection[] = [];
  registry.onRelease((c) => released.push(c));
  const id = registry.open();
  const sent: JournalEntry[] = [];
  for (const event of [...events, { type: 'FINISH' } as const]) {
    now += 1;
    registry.dispatch(id, event);
    sent.push({ at: now, event });
  }
  expect(released).toHaveLength(1);
  return { released: released[0]!, sent };
}

const data = (count: number): ConnectionEvent[] => Array.from({ length: count }, (_, i) => ({ type: 'DATA', bytesSent: i + 1 }));

describe('the journal a release hands over', () => {
  it('holds exactly the newest journalSize events oldest first, for every size 1–8 and every count up to 3 × size', () => {
    for (let size = 1; size <= 8; size++) {
      for (let count = 0; count <= 3 * size; count++) {
        const { released, sent } = releaseAfter(size, data(count));
        expect(released.journal, `size ${size}, ${count} events before FINISH`).toEqual(sent.slice(-size));
      }
    }
  });

  it('holds the newest journalSize of any mix of events, known, unhandled or of unknown type, oldest first', () => {
    const anyEvent = fc.oneof(
      fc.constant<ConnectionEvent>({ type: 'HEADERS', status: 200 }),
      fc.nat(1_000).map<ConnectionEvent>((bytesSent) => ({ type: 'DATA', bytesSent })),
      fc.constant<ConnectionEvent>({ type: 'REQUEST_END' }),
      fc.constant({ type: 'PING' } as unknown as ConnectionEvent),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(anyEvent, { maxLength: 30 }), (size, events) => {
        const { released, sent } = releaseAfter(size, events);
        expect(released.journal).toEqual(sent.slice(-size));
      }),
      { numRuns: 100 },
    );
  });

  it('is empty when the journal is off, however many events there were', () => {
    expect(releaseAfter(0, data(5)).released.journal).toEqual([]);
  });

  it('is the connection’s own: each connection’s ring keeps only its events', () => {
    let now = 0;
    const registry = createRegistry({ clock: () => now, journalSize: 2 });
    const journals = new Map<number, readonly JournalEntry[]>();
    registry.onRelease((c) => journals.set(c.id, c.journal));
    const a = registry.open();
    const b = registry.open();
    for (let i = 1; i <= 3; i++) {
      now = i;
      registry.dispatch(a, { type: 'DATA', bytesSent: i });
      registry.dispatch(b, { type: 'DATA', bytesSent: 100 + i });
    }
    now = 10;
    registry.dispatch(a, { type: 'CLOSE', reason: 'reset' });
    registry.dispatch(b, { type: 'FINISH' });
    expect(journals.get(a)).toEqual([
      { at: 3, event: { type: 'DATA', bytesSent: 3 } },
      { at: 10, event: { type: 'CLOSE', reason: 'reset' } },
    ]);
    expect(journals.get(b)).toEqual([
      { at: 3, event: { type: 'DATA', bytesSent: 103 } },
      { at: 10, event: { type: 'FINISH' } },
    ]);
  });
});
