/**
 * The requests of one registry between their open and their release, by
 * connection id: typed arrays indexed by the id modulo their size, so
 * following a request allocates nothing and costs no `WeakMap` entry. A
 * registry numbers its connections in order, so the requests in flight at
 * one time mostly fall in distinct slots; one that finds its slot held (by a
 * long-lived request) waits in a small `Map` instead. The arrays double when
 * half full, so they hold at most about twice the most requests ever in
 * flight at once.
 */
export class PendingRequests {
  #ids: Float64Array;
  #starts: Float64Array;
  #sets: Int32Array;
  #routes: (string | undefined)[];
  #size = 0;
  readonly #overflow = new Map<number, { start: number; set: number; route: string | undefined }>();

  /** What {@link take} found: read right after it returned true. */
  start = 0;
  set = 0;
  route: string | undefined;

  constructor(capacity = 256) {
    this.#ids = new Float64Array(capacity);
    this.#starts = new Float64Array(capacity);
    this.#sets = new Int32Array(capacity);
    this.#routes = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** Remembers a request: its start, the index of its open series, its route. `id` must be > 0. */
  add(id: number, start: number, set: number, route: string | undefined): void {
    if (this.#size * 2 >= this.#ids.length) this.#grow();
    this.#size++;
    if (!this.#place(id, start, set, route)) this.#overflow.set(id, { start, set, route });
  }

  /** Forgets a request, copying what was kept into `start`, `set` and `route`; false if it was not here. */
  take(id: number): boolean {
    const slot = (id >>> 0) & (this.#ids.length - 1);
    if (this.#ids[slot] === id) {
      this.#ids[slot] = 0;
      this.start = this.#starts[slot]!;
      this.set = this.#sets[slot]!;
      this.route = this.#routes[slot];
      this.#routes[slot] = undefined;
      this.#size--;
      return true;
    }
    const held = this.#overflow.get(id);
    if (held === undefined) return false;
    this.#overflow.delete(id);
    this.start = held.start;
    this.set = held.set;
    this.route = held.route;
    this.#size--;
    return true;
  }

  #place(id: number, start: number, set: number, route: string | undefined): boolean {
    const slot = (id >>> 0) & (this.#ids.length - 1);
    if (this.#ids[slot] !== 0) return false;
    this.#ids[slot] = id;
    this.#starts[slot] = start;
    this.#sets[slot] = set;
    this.#routes[slot] = route;
    return true;
  }

  #grow(): void {
    const ids = this.#ids;
    const starts = this.#starts;
    const sets = this.#sets;
    const routes = this.#routes;
    const capacity = ids.length * 2;
    this.#ids = new Float64Array(capacity);
    this.#starts = new Float64Array(capacity);
    this.#sets = new Int32Array(capacity);
    this.#routes = new Array<string | undefined>(capacity).fill(undefined);
    for (let slot = 0; slot < ids.length; slot++) {
      if (ids[slot] !== 0 && !this.#place(ids[slot]!, starts[slot]!, sets[slot]!, routes[slot])) {
        this.#overflow.set(ids[slot]!, { start: starts[slot]!, set: sets[slot]!, route: routes[slot] });
      }
    }
    for (const [id, held] of this.#overflow) {
      if (this.#place(id, held.start, held.set, held.route)) this.#overflow.delete(id);
    }
  }
}
