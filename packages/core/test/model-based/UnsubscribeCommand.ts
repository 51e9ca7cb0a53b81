import type fc from 'fast-check';
import type { RegistryModel, RegistryReal } from './model.js';

export class UnsubscribeCommand implements fc.Command<RegistryModel, RegistryReal> {
  constructor(readonly pick: number) {}
  check(model: Readonly<RegistryModel>): boolean {
    return model.subscribers.size > 0;
  }
  run(model: RegistryModel, real: RegistryReal): void {
    const tokens = [...model.subscribers.keys()];
    const token = tokens[this.pick % tokens.length]!;
    model.subscribers.delete(token);
    real.subscribers.get(token)!.unsubscribe();
    // Unsubscribing twice is harmless.
    real.subscribers.get(token)!.unsubscribe();
  }
  toString(): string {
    return `unsubscribe(#${this.pick})`;
  }
}
