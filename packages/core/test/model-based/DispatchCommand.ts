import type fc from 'fast-check';
import { expect } from 'vitest';
import type { ConnectionEvent } from '../../src/events.js';
import { nextModelState, pickId, type RegistryModel, type RegistryReal } from './model.js';

export class DispatchCommand implements fc.Command<RegistryModel, RegistryReal> {
  constructor(
    readonly pick: number,
    readonly unknown: boolean,
    readonly event: ConnectionEvent,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: RegistryModel, real: RegistryReal): void {
    const id = pickId(model, this.pick, this.unknown);
    const before = model.states.get(id);
    const releasesBefore = real.releases.get(id) ?? 0;
    const returned = real.registry.dispatch(id, this.event);
    if (before === undefined) {
      // Released or never issued: nothing changes and nothing is released again.
      expect(returned).toBeUndefined();
      expect(real.releases.get(id) ?? 0).toBe(releasesBefore);
    } else {
      const after = nextModelState(before, this.event);
      expect(returned).toBe(after);
      // Every live subscriber hears every event applied to an in-flight connection.
      for (const s of model.subscribers.values()) {
        s.calls++;
        if (s.throws) model.listenerErrors++;
      }
      if (after === 'open' || after === 'streaming') {
        model.states.set(id, after);
      } else {
        model.states.delete(id);
        model.released.set(id, after);
        expect(real.releases.get(id)).toBe(1);
      }
    }
    expect(real.registry.size).toBe(model.states.size);
    for (const [token, s] of model.subscribers) expect(real.subscribers.get(token)!.calls).toBe(s.calls);
    expect(real.listenerErrors).toBe(model.listenerErrors);
  }
  toString(): string {
    return `dispatch(${this.unknown ? 'unknown' : `#${this.pick}`}, ${JSON.stringify(this.event)})`;
  }
}
