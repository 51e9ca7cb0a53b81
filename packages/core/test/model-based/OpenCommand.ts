import type fc from 'fast-check';
import { expect } from 'vitest';
import type { RegistryModel, RegistryReal } from './model.js';

export class OpenCommand implements fc.Command<RegistryModel, RegistryReal> {
  constructor(readonly transport: string) {}
  check(): boolean {
    return true;
  }
  run(model: RegistryModel, real: RegistryReal): void {
    const id = real.registry.open({ transport: this.transport });
    expect(model.opened).not.toContain(id);
    model.opened.push(id);
    model.states.set(id, 'open');
    expect(real.registry.state(id)).toBe('open');
    expect(real.registry.size).toBe(model.states.size);
  }
  toString(): string {
    return `open(${JSON.stringify(this.transport)})`;
  }
}
