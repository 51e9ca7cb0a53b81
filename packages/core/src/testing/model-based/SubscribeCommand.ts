import type fc from 'fast-check';
import type { ModelledRegistry, RegistryModel, RegistryReal } from './model.js';

/**
 * Subscribes a transition listener; a throwing one must not disturb anything else.
 *
 * @example
 * ```ts
 * const commands = [...registryCommands(), fc.constant(new SubscribeCommand(true))]; // more throwing listeners
 * ```
 */
export class SubscribeCommand implements fc.Command<RegistryModel, RegistryReal<ModelledRegistry>> {
  constructor(readonly throws: boolean) {}
  check(): boolean {
    return true;
  }
  run(model: RegistryModel, real: RegistryReal<ModelledRegistry>): void {
    const token = model.nextToken++;
    model.subscribers.set(token, { calls: 0, throws: this.throws });
    const record = { calls: 0, unsubscribe: () => {} };
    record.unsubscribe = real.registry.subscribe(() => {
      record.calls++;
      if (this.throws) throw new Error(`subscriber ${token} throws`);
    });
    real.subscribers.set(token, record);
  }
  toString(): string {
    return this.throws ? 'subscribe(throwing)' : 'subscribe()';
  }
}
