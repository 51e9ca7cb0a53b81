/**
 * The registry's in-flight entries by id: an open-addressing hash table
 * (linear probing, deletion by backward shift, no tombstones) over one array.
 *
 * Why not a `Map`: a server's in-flight count swings from zero to its
 * concurrency and back many times a second, and V8's `Map` follows it, growing
 * its table on `set` and shrinking it on `delete` (a new table, every live
 * entry copied, each time the count falls below a quarter of the capacity).
 * Profiled on the hello bench (Node 24, 32 keep-alive connections), that
 * resizing was about 1.6% of the server's CPU time, some 0.4 µs per request,
 * in the registry as in a hand-written `Map` of responses. This table never
 * shrinks while it is small, and a large one shrinks only when nearly empty,
 * so a swinging load settles on one table and then allocates nothing.
 *
 * A slot is chosen by Fibonacci hashing of the id (multiply by 2^32/φ, keep the
 * top bits), not by its low bits: ids are issued in order, and with the low
 * bits thousands of long-lived connections would sit in one contiguous run of
 * slots that every later id wrapping around onto it would have to walk.
 * Iteration is in slot order; `registry.list()` sorts what it returns by id,
 * the order a `Map` filled in id order gave.
 */
export class EntryTable<E extends { readonly id: number }> {
  private slots: (E | undefined)[] = emptySlots(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  /** 32 − log2(capacity): `hash(id) >>> shift` is a slot. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Slots in the table (for tests of the resize policy). */
  get capacity(): number {
    return this.slots.length;
  }

  /** The longest run of occupied slots, wrapping around (for tests): no lookup probes further. */
  get longestRun(): number {
    const slots = this.slots;
    let longest = 0;
    let run = 0;
    // Twice round, so that a run crossing the end of the array is counted whole.
    for (let k = 0; k < slots.length * 2; k++) {
      run = slots[k & this.mask] === undefined ? 0 : run + 1;
      if (run > longest) longest = run;
    }
    return Math.min(longest, this.count);
  }

  /** The entry with this id, if in the table. Anything but a number finds nothing (a `Map` would not throw either). */
  get(id: number): E | undefined {
    if (typeof id !== 'number') return undefined;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = slotOf(id, this.shift); ; i = (i + 1) & mask) {
      const entry = slots[i];
      if (entry === undefined || entry.id === id) return entry;
    }
  }

  /** Adds an entry whose id is not in the table (the registry never issues an id twice). */
  add(entry: E): void {
    if ((this.count + 1) * 2 > this.slots.length) this.resize(this.slots.length * 2);
    this.place(entry);
    this.count++;
  }

  /** Removes the entry with this id; false when there is none. */
  delete(id: number): boolean {
    if (typeof id !== 'number') return false;
    const slots = this.slots;
    const mask = this.mask;
    const shift = this.shift;
    let hole = slotOf(id, shift);
    for (; ; hole = (hole + 1) & mask) {
      const entry = slots[hole];
      if (entry === undefined) return false;
      if (entry.id === id) break;
    }
    // Backward shift: walk the run after the hole and move back every entry whose home slot does not lie
    // (cyclically) between the hole and where it sits, so that every lookup still finds it before an empty slot.
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const entry = slots[j];
      if (entry === undefined) break;
      const home = slotOf(entry.id, shift);
      const staysPut = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (staysPut) continue;
      slots[hole] = entry;
      hole = j;
    }
    slots[hole] = undefined;
    this.count--;
    if (slots.length > SHRINK_ABOVE && this.count * 16 < slots.length) this.resize(slots.length / 2);
    return true;
  }

  /** Every entry, in no particular order (slot order): sort what you keep, as `registry.list()` does. */
  values(): E[] {
    const out: E[] = [];
    for (const entry of this.slots) if (entry !== undefined) out.push(entry);
    return out;
  }

  private place(entry: E): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = slotOf(entry.id, this.shift);
    while (slots[i] !== undefined) i = (i + 1) & mask;
    slots[i] = entry;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = emptySlots(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    for (const entry of old) if (entry !== undefined) this.place(entry);
  }
}

/** Slots of a new table (a power of two): 64 slots hold 32 entries, a small server's whole concurrency. */
const MIN_CAPACITY = 64;
/** Tables up to this many slots (8 KiB of pointers) never shrink; a larger one halves when under 1/16 full. */
const SHRINK_ABOVE = 1024;

// A packed array of `undefined` (not a holey one): loads need no hole check.
const emptySlots = <E>(capacity: number): (E | undefined)[] => Array.from({ length: capacity }, () => undefined);

/**
 * The home slot of an id: its low 32 bits times 2^32/φ (Knuth's multiplicative hashing), top bits kept.
 * Consecutive ids land far apart. Only a hash: the lookup compares the whole id.
 */
const slotOf = (id: number, shift: number): number => Math.imul(id, 0x9e3779b1) >>> shift;
