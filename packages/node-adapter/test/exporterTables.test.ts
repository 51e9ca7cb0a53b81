import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS } from '../src/durationBuckets.js';
import { HistogramTable } from '../src/histogramTable.js';
import { PendingRequests } from '../src/otel/pendingRequests.js';

/** Durations around every bound: below, on, just above, and past the last one. */
const duration = fc.oneof(
  fc.constantFrom(0, ...DURATION_BUCKETS, ...DURATION_BUCKETS.map((b) => b + 1e-9), 11, 1e6),
  fc.double({ min: 0, max: 20, noNaN: true }),
);

describe('HistogramTable, the exporters’ pre-aggregated histograms', () => {
  it('each row holds exactly the count, sum, min, max and bucket counts of the values recorded in it (le: a value on a bound counts in that bound’s bucket)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 40 }), duration), { maxLength: 300 }), (values) => {
        const table = new HistogramTable(DURATION_BUCKETS);
        const rowOf = new Map<number, number>();
        for (const [key, value] of values) {
          let row = rowOf.get(key);
          if (row === undefined) rowOf.set(key, (row = table.addRow()));
          table.record(row, value);
        }
        expect(table.rows).toBe(rowOf.size);
        for (const [key, row] of rowOf) {
          const mine = values.filter(([k]) => k === key).map(([, v]) => v);
          expect(table.count(row)).toBe(mine.length);
          expect(table.sum(row)).toBeCloseTo(mine.reduce((a, b) => a + b, 0), 6);
          expect(table.min(row)).toBe(Math.min(...mine));
          expect(table.max(row)).toBe(Math.max(...mine));
          const expected = [...DURATION_BUCKETS, Infinity].map((bound, i) => mine.filter((v) => v <= bound && (i === 0 || v > DURATION_BUCKETS[i - 1]!)).length);
          expect(table.bucketCounts(row)).toEqual(expected);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('reset empties every row and keeps the rows, so a row index stays valid', () => {
    const table = new HistogramTable(DURATION_BUCKETS);
    const row = table.addRow();
    table.record(row, 0.3);
    table.reset();
    expect([table.rows, table.count(row), table.sum(row), table.min(row), table.max(row)]).toEqual([1, 0, 0, Infinity, -Infinity]);
    table.record(row, 0.3);
    expect(table.count(row)).toBe(1);
  });
});

describe('PendingRequests, requests between their open and their release', () => {
  it('gives back each added request exactly once, with what was added, whatever the order of releases and however long some stay', () => {
    // Each step opens the next id or releases one of the open ones: long-lived requests force slot collisions and growth.
    const steps = fc.array(fc.oneof(fc.constant('open' as const), fc.nat({ max: 1_000 })), { maxLength: 600 });
    fc.assert(
      fc.property(steps, fc.constantFrom(1, 2, 8), fc.boolean(), (script, capacity, withRoutes) => {
        const pending = new PendingRequests(capacity);
        const open = new Map<number, [number, number, string | undefined]>();
        const taken: [number, number, number, string | undefined][] = [];
        let nextId = 1;
        for (const step of script) {
          if (step === 'open') {
            const id = nextId++;
            const kept: [number, number, string | undefined] = [id * 0.5, id % 7, withRoutes ? `/r${id % 3}` : undefined];
            open.set(id, kept);
            pending.add(id, ...kept);
          } else if (open.size > 0) {
            const id = [...open.keys()][step % open.size]!;
            open.delete(id);
            expect(pending.take(id)).toBe(true);
            taken.push([id, pending.start, pending.set, pending.route]);
          }
        }
        for (const id of open.keys()) expect(pending.take(id)).toBe(true);
        for (let id = 1; id < nextId; id++) expect(pending.take(id)).toBe(false); // none comes back twice
        for (const [id, start, set, route] of taken) expect([start, set, route]).toEqual([id * 0.5, id % 7, withRoutes ? `/r${id % 3}` : undefined]);
      }),
      { numRuns: 100 },
    );
  });
});
