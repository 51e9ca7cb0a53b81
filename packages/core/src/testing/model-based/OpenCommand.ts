import type fc from 'fast-check';
import type { Transport } from '@lifeline/core';
import { agree, type ModelledRegistry, type RegistryModel, type RegistryReal } from './model.js';

/**
 * Opens a connection: a new id, in state `open`, one more in flight.
 *
 * @example
 * ```ts
 * const commands = [fc.constantFrom('websocket', 'tcp').map((t) => new OpenCommand(t)), ...registryCommands().slice(1)];
 * ```
 */
export class OpenCommand implements fc.Command<RegistryModel, RegistryReal<ModelledRegistry>> {
  constructor(readonly transport: Transport) {}
  check(): boolean {
    return true;
  }
  run(model: RegistryModel, real: RegistryReal<ModelledRegistry>): void {
    const id = real.registry.open({ transport: this.transport });
    agree(`open() returned an id issued before (${id})`, model.opened.includes(id), false);
    model.opened.push(id);
    model.states.set(id, 'open');
    agree(`state(${id}) right after open()`, real.registry.state(id), 'open');
    agree('size after open()', real.registry.size, model.states.size);
  }
  toString(): string {
    return `open(${JSON.stringify(this.transport)})`;
  }
}
