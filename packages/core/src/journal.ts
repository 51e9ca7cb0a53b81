import type { ConnectionEvent } from './events.js';

/** One remembered event of a connection. `Ev`: the registry's events. */
export interface JournalEntry<Ev = ConnectionEvent> {
  /** Clock time at which the event was dispatched. */
  readonly at: number;
  readonly event: Ev;
}

/**
 * A bounded ring of a connection's most recent events, stored flat as
 * `[at, event, at, event, ...]` so that recording allocates nothing once the
 * ring exists. Only the newest `size` events are kept.
 */
export class JournalRing {
  private readonly slots: unknown[];
  private written = 0;

  constructor(private readonly size: number) {
    this.slots = new Array<unknown>(size * 2);
  }

  record(at: number, event: unknown): void {
    const i = (this.written % this.size) * 2;
    this.slots[i] = at;
    this.slots[i + 1] = event;
    this.written++;
  }

  /** How many events were recorded in all, including those the ring has dropped. */
  get total(): number {
    return this.written;
  }

  /** The kept events, oldest first. */
  entries<Ev>(): JournalEntry<Ev>[] {
    const count = Math.min(this.written, this.size);
    const out: JournalEntry<Ev>[] = new Array(count);
    const start = this.written - count;
    for (let k = 0; k < count; k++) {
      const i = ((start + k) % this.size) * 2;
      out[k] = { at: this.slots[i] as number, event: this.slots[i + 1] as Ev };
    }
    return out;
  }
}
