import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS } from '../src/durationBuckets.js';
import { HistogramTable } from '../src/histogramTable.js';
import { PendingRequests } from '../src/otel/pendingRequests.js';
import { watchHttpRequests } from '../src/otel/httpRequestSeries.js';
import { channelNames } from '../src/diagnostics.js';
import { createRegistry } from '@lifeline/core';
import { channel } from 'node:diagnostics_channel';

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

describe('watchHttpRequests, the series each request is recorded in', () => {
  // The open and release series sit behind a one-entry cache of the last combination: runs of one combination
  // and combinations that alternate must both land each request in exactly its own series.
  const combo = fc.record({
    method: fc.constantFrom('GET', 'BREW', undefined),
    version: fc.constantFrom('1.0', '1.1'),
    tls: fc.boolean(),
    route: fc.constantFrom('/a', '/b', undefined),
    status: fc.constantFrom(200, undefined),
    // 'elsewhere': released by other code than the adapter (no outcome in the message); same error.type as 'aborted'.
    ending: fc.constantFrom('finished', 'aborted', 'reset', 'timeout', 'elsewhere'),
    registry: fc.constantFrom(0, 1),
  });

  it('records each release once in the series of its own attributes, and each open combination’s active count is the requests open in it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(combo, fc.boolean()), { maxLength: 120 }), fc.boolean(), (script, withRoute) => {
        const registries = [createRegistry({ journalSize: 0 }), createRegistry({ journalSize: 0 })];
        const recorded: { attributes: Record<string, unknown>; row: number }[] = [];
        let rows = 0;
        const watch = watchHttpRequests(
          { only: undefined, route: withRoute ? (r) => (r.url === '/none' ? undefined : r.url) : undefined },
          { newRow: () => rows++, release: (series) => void recorded.push(series) },
        );
        try {
          const open: { id: number; c: (typeof script)[number][0]; target: object }[] = [];
          const expected: Record<string, unknown>[] = [];
          let nextId = 1;
          for (const [c, release] of script) {
            if (release && open.length > 0) {
              // Releases the oldest one: requests of different combinations overlap.
              const { id, c: o, target } = open.shift()!;
              const outcome = { finished: 'finished', aborted: 'closed', reset: 'closed', timeout: 'errored', elsewhere: undefined }[o.ending];
              const event =
                o.ending === 'finished' ? { type: 'FINISH' } : o.ending === 'timeout' ? { type: 'ERROR', reason: 'timeout' } : { type: 'CLOSE', reason: o.ending === 'reset' ? 'reset' : 'aborted' };
              channel(channelNames.release).publish({ id, transport: 'http1', registry: registries[o.registry], target, outcome, event });
              const attributes: Record<string, unknown> = {
                'http.request.method': o.method === 'GET' ? o.method : '_OTHER',
                'url.scheme': o.tls ? 'https' : 'http',
                'network.protocol.version': o.version,
                'lifeline.outcome': outcome ?? 'released-elsewhere',
              };
              if (o.status !== undefined) attributes['http.response.status_code'] = o.status;
              if (withRoute && o.route !== undefined) attributes['http.route'] = o.route;
              if (outcome !== 'finished') attributes['error.type'] = o.ending === 'elsewhere' ? 'aborted' : o.ending;
              expected.push(attributes);
            } else {
              const id = nextId++;
              const req = { method: c.method, url: c.route ?? '/none', httpVersion: c.version, socket: { encrypted: c.tls } };
              const target = { req, headersSent: c.status !== undefined, statusCode: c.status ?? 200 };
              channel(channelNames.open).publish({ id, transport: 'http1', registry: registries[c.registry], target });
              open.push({ id, c, target });
            }
            const active = new Map<string, number>();
            for (const { c: o } of open) {
              const key = `${o.method === 'GET' ? o.method : '_OTHER'} ${o.tls ? 'https' : 'http'} ${o.version}`;
              active.set(key, (active.get(key) ?? 0) + 1);
            }
            for (const series of watch.open) {
              const key = `${series.attributes['http.request.method']} ${series.attributes['url.scheme']} ${series.attributes['network.protocol.version']}`;
              expect(series.active).toBe(active.get(key) ?? 0);
            }
          }
          expect(recorded.map((s) => s.attributes)).toEqual(expected);
          // One row per distinct attribute set, and a set always goes to the same row.
          const rowOf = new Map<string, number>();
          for (const s of recorded) {
            const key = JSON.stringify(s.attributes, Object.keys(s.attributes).sort());
            expect(rowOf.get(key) ?? s.row).toBe(s.row);
            rowOf.set(key, s.row);
          }
          expect(new Set(rowOf.values()).size).toBe(rowOf.size);
        } finally {
          watch.stop();
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('watchHttpRequests, requests that differ from the one before in one attribute only', () => {
  type Request = { method: string; tls: boolean; version: string; url: string; status: number; outcome: string | undefined; reason: string };
  const base: Request = { method: 'GET', tls: false, version: '1.1', url: '/a', status: 200, outcome: 'closed', reason: 'aborted' };
  // Each differs from base in one of the keys the series are cached by (aborted and reset: same outcome, another error.type;
  // 'elsewhere' (no outcome): the same error.type, another outcome).
  const variants: [string, Partial<Request>][] = [
    ['method', { method: 'POST' }],
    ['scheme', { tls: true }],
    ['version', { version: '1.0' }],
    ['route', { url: '/b' }],
    ['status', { status: 404 }],
    ['error.type', { reason: 'reset' }],
    ['outcome', { outcome: undefined }],
  ];

  it.each(variants)('gives each its own series when they alternate with a request that differs in %s', (_, change) => {
    const registry = createRegistry({ journalSize: 0 });
    const seen: Record<string, unknown>[] = [];
    let rows = 0;
    const watch = watchHttpRequests({ only: undefined, route: (r) => r.url }, { newRow: () => rows++, release: (series) => void seen.push(series.attributes) });
    try {
      const requests = [base, { ...base, ...change }, base, { ...base, ...change }];
      requests.forEach((r, i) => {
        const target = { req: { method: r.method, url: r.url, httpVersion: r.version, socket: { encrypted: r.tls } }, headersSent: true, statusCode: r.status };
        channel(channelNames.open).publish({ id: i + 1, transport: 'http1', registry, target });
        channel(channelNames.release).publish({ id: i + 1, transport: 'http1', registry, target, outcome: r.outcome, event: { type: 'CLOSE', reason: r.reason } });
      });
      const expected = requests.map((r) => ({
        'http.request.method': r.method,
        'url.scheme': r.tls ? 'https' : 'http',
        'network.protocol.version': r.version,
        'lifeline.outcome': r.outcome ?? 'released-elsewhere',
        'http.response.status_code': r.status,
        'http.route': r.url,
        'error.type': r.reason,
      }));
      expect(seen).toEqual(expected);
      expect(rows).toBe(2);
      expect(watch.open.map((s) => s.active)).toEqual(change.method !== undefined || change.tls !== undefined || change.version !== undefined ? [0, 0] : [0]);
    } finally {
      watch.stop();
    }
  });
});
