import type fc from 'fast-check';
import type { ModelledRegistry, RegistryModel, RegistryReal } from './model.js';

/**
 * Unsubscribes one of the live subscribers, twice: the second call must be harmless.
 *
 * @example
 * ```ts
 * const commands = [...registryCommands(), fc.nat().map((pick) => new UnsubscribeCommand(pick))];
 * ```
 */
export class UnsubscribeCommand implements fc.Command<RegistryModel, RegistryReal<ModelledRegistry>> {
  constructor(readonly pick: number) {}
  check(model: Readonly<RegistryModel>): boolean {
    return model.subscribers.size > 0;
  }
  run(model: RegistryModel, real: RegistryReal<ModelledRegistry>): void {
    const tokens = [...model.subscribers.keys()];
    const token = tokens[this.pick % tokens.length]!;
    model.subscribers.delete(token);
    real.subscribers.get(token)!.unsubscribe();
    real.subscribers.get(token)!.unsubscribe();
  }
  toString(): string {
    return `unsubscribe(#${this.pick})`;
  }
}
