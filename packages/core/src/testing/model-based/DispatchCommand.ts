import type fc from 'fast-check';
import type { ConnectionEvent } from '@lifeline/core';
import { agree, nextModelState, pickId, type ModelledRegistry, type RegistryModel, type RegistryReal } from './model.js';

/**
 * Dispatches an event to an opened id (in flight or long released) or to one
 * never issued, and checks the returned state, the release (exactly once, at
 * the first terminal fact), the size, and that every live subscriber heard it.
 *
 * @example
 * ```ts
 * // Only events to opened ids, never to unknown ones:
 * const dispatches = fc.tuple(fc.nat(), connectionEventArbitrary()).map(([pick, event]) => new DispatchCommand(pick, false, event));
 * ```
 */
export class DispatchCommand implements fc.Command<RegistryModel, RegistryReal<ModelledRegistry>> {
  constructor(
    readonly pick: number,
    readonly unknown: boolean,
    readonly event: ConnectionEvent,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: RegistryModel, real: RegistryReal<ModelledRegistry>): void {
    const id = pickId(model, this.pick, this.unknown);
    const before = model.states.get(id);
    const releasesBefore = real.releases.get(id) ?? 0;
    const returned = real.registry.dispatch(id, this.event);
    if (before === undefined) {
      // Released or never issued: nothing changes and nothing is released again.
      agree(`dispatch to ${id}, not in flight, returned`, returned, undefined);
      agree(`releases of ${id} after a late or unknown event`, real.releases.get(id) ?? 0, releasesBefore);
    } else {
      const after = nextModelState(before, this.event);
      agree(`dispatch to ${id} (${before}) returned`, returned, after);
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
        agree(`releases of ${id} after its first terminal fact`, real.releases.get(id), 1);
      }
    }
    agree('size', real.registry.size, model.states.size);
    for (const [token, s] of model.subscribers) agree(`calls of subscriber ${token}`, real.subscribers.get(token)!.calls, s.calls);
    agree('listener errors reported', real.listenerErrors, model.listenerErrors);
  }
  toString(): string {
    return `dispatch(${this.unknown ? 'unknown' : `#${this.pick}`}, ${JSON.stringify(this.event)})`;
  }
}
