import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryTable } from '../src/entryTable.js';
import { createRegistry } from '../src/index.js';

interface Item {
  readonly id: number;
}

type Op = { kind: 'add'; id: number } | { kind: 'delete'; id: number } | { kind: 'get'; id: number };

/**
 * Ids as the registry issues them (increasing, some long-lived while thousands come and go) and a few
 * far apart (a restored log may start anywhere up to 2^53), so that every slot, wrap-around, collision and
 * resize path is taken, the large table's shrink included.
 */
const opsArbitrary = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('add' as const), step: fc.integer({ min: 1, max: 3 }), far: fc.boolean() }), weight: 5 },
    { arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('get' as const), pick: fc.nat() }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('burst' as const), n: fc.integer({ min: 1, max: 2_500 }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('drain' as const), keep: fc.integer({ min: 0, max: 3 }) }), weight: 1 },
  ),
  { maxLength: 120 },
);

/** Runs `ops` on the table and on a Map (the model), checking after each step that both hold the same entries. */
type Ops = typeof opsArbitrary extends fc.Arbitrary<infer T> ? T : never;

function runAgainstMap(ops: Ops): void {
  const table = new EntryTable<Item>();
  const model = new Map<number, Item>();
  let next = 1;
  const live = () => [...model.keys()];
  const pick = (n: number) => {
    const ids = live();
    return ids.length === 0 ? next + n : ids[n % ids.length]!;
  };
  const apply = (op: Op) => {
    if (op.kind === 'add') {
      const item = { id: op.id };
      table.add(item);
      model.set(op.id, item);
    } else if (op.kind === 'delete') {
      expect(table.delete(op.id)).toBe(model.delete(op.id));
    } else {
      expect(table.get(op.id)).toBe(model.get(op.id));
    }
  };
  for (const op of ops) {
    if (op.kind === 'add') {
      next += op.far ? 2 ** 40 + op.step : op.step;
      apply({ kind: 'add', id: next });
    } else if (op.kind === 'delete') apply({ kind: 'delete', id: pick(op.pick) });
    else if (op.kind === 'get') apply({ kind: 'get', id: pick(op.pick) });
    else if (op.kind === 'burst') for (let k = 0; k < op.n; k++) apply({ kind: 'add', id: ++next });
    else for (const id of live().slice(op.keep)) apply({ kind: 'delete', id });
    expect(table.size).toBe(model.size);
  }
  // Every id the model holds is found, nothing else is, and iteration yields each entry once.
  for (const [id, item] of model) expect(table.get(id)).toBe(item);
  expect(table.values().sort((a, b) => a.id - b.id)).toEqual([...model.values()].sort((a, b) => a.id - b.id));
  expect(table.get(next + 1)).toBeUndefined();
}

describe('EntryTable: the registry’s table of in-flight entries behaves as a Map keyed by id', () => {
  it('holds, for any sequence of adds, deletes and lookups, exactly the entries a Map would, found by id, each listed once', () => {
    fc.assert(fc.property(opsArbitrary, (ops) => runAgainstMap(ops)), { numRuns: 300 });
  });

  it('keeps every entry findable through each delete from a table at its fullest, where runs of displaced entries are longest', () => {
    // Deleting from inside a run must pull later entries of the run back (backward shift) without losing one whose
    // home slot lies before the hole; a half-full table, emptied in a random order, checked after every step.
    fc.assert(
      fc.property(fc.constantFrom(32, 512), fc.integer({ min: 1, max: 2 ** 40 }), fc.infiniteStream(fc.nat()), (count, first, picks) => {
        const table = new EntryTable<Item>();
        const live = Array.from({ length: count }, (_, k) => ({ id: first + k }));
        for (const item of live) table.add(item);
        const order = picks[Symbol.iterator]();
        while (live.length > 0) {
          const [gone] = live.splice(order.next().value % live.length, 1);
          expect(table.delete(gone!.id)).toBe(true);
          expect(table.get(gone!.id)).toBeUndefined();
          // One assertion per step (not per entry): a 512-entry run checks some 130,000 lookups.
          expect(live.filter((item) => table.get(item.id) !== item)).toEqual([]);
          expect(table.size).toBe(live.length);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('finds nothing for what is not an issued id, and deletes nothing then', () => {
    const table = new EntryTable<Item>();
    for (let id = 1; id <= 100; id++) table.add({ id });
    for (const odd of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '3', null, undefined, {}, Symbol('x'), 3n]) {
      expect(table.get(odd as number)).toBeUndefined();
      expect(table.delete(odd as number)).toBe(false);
    }
    expect(table.size).toBe(100);
  });

  it('keeps a long-lived entry findable while its slot is reused by later ids many times over (wrap-around)', () => {
    const table = new EntryTable<Item>();
    const old = { id: 1 };
    table.add(old);
    for (let id = 2; id < 20_000; id++) {
      table.add({ id });
      expect(table.delete(id)).toBe(true);
    }
    expect(table.get(1)).toBe(old);
    expect(table.values()).toEqual([old]);
  });
});

describe('EntryTable resizes so that a load swinging between idle and busy settles on one table', () => {
  it('a small table never shrinks: after the first swing to 33 in flight, further swings add or drop no table', () => {
    const table = new EntryTable<Item>();
    let next = 0;
    const swing = () => {
      const ids = Array.from({ length: 33 }, () => ++next);
      for (const id of ids) table.add({ id });
      const capacity = table.capacity;
      for (const id of ids) table.delete(id);
      return capacity;
    };
    expect(swing()).toBe(128);
    expect(table.capacity).toBe(128);
    for (let k = 0; k < 50; k++) expect(swing()).toBe(128);
    expect(table.capacity).toBe(128);
  });

  it('grows before it is half full, and a large table shrinks only when under a sixteenth full', () => {
    const table = new EntryTable<Item>();
    for (let id = 1; id <= 5_000; id++) {
      table.add({ id });
      expect(table.size * 2).toBeLessThanOrEqual(table.capacity);
    }
    expect(table.capacity).toBe(16_384);
    let id = 0;
    while (table.size > 1_024) table.delete(++id);
    expect(table.capacity).toBe(16_384);
    table.delete(++id);
    expect(table.capacity).toBe(8_192);
    while (table.size > 0) table.delete(++id);
    expect(table.capacity).toBe(1_024);
  });
});

describe('EntryTable keeps every lookup short when long-lived connections sit among many short ones', () => {
  it('10,000 connections held while 60,000 later ones come and go one at a time: no run of occupied slots (the most a lookup probes) exceeds 200', () => {
    // Slots chosen by the id's low bits would put the 10,000 held ids in one run of 10,000 slots, which every later
    // id wrapping around onto it walks: a lookup of thousands of steps on each request.
    const table = new EntryTable<Item>();
    let id = 0;
    while (id < 10_000) table.add({ id: ++id });
    let longest = table.longestRun;
    for (let k = 0; k < 60_000; k++) {
      table.add({ id: ++id });
      if (k % 1_000 === 0) longest = Math.max(longest, table.longestRun);
      expect(table.delete(id)).toBe(true);
    }
    expect(table.size).toBe(10_000);
    expect(longest).toBeLessThanOrEqual(200);
    expect(table.get(1)).toEqual({ id: 1 });
  });
});

describe('the registry lists its connections by increasing id, as before the table replaced its Map', () => {
  it('after releases out of order and a burst that grew and shrank the table', () => {
    const registry = createRegistry({ journalSize: 0 });
    const ids = Array.from({ length: 3_000 }, () => registry.open());
    for (const id of ids) if (id % 7 !== 0) registry.dispatch(id, { type: 'FINISH' });
    const left = ids.filter((id) => id % 7 === 0);
    expect(registry.size).toBe(left.length);
    expect(registry.list().map((c) => c.id)).toEqual(left);
    expect(registry.state(left[0]!)).toBe('open');
  });
});
