import type { ConnectionEvent } from '../src/events.js';
import { createRegistry, type Registry, type RegistryOptions } from '../src/registry.js';
import type { RegistryStep } from '../src/testing/index.js';

/** A registry on a fake clock that tests move by hand. */
export function fakeClockRegistry(options: Omit<RegistryOptions, 'clock'> = {}) {
  const clock = { now: 1_000 };
  const registry = createRegistry({ ...options, clock: () => clock.now });
  return { registry, clock };
}

/** Runs a generated script against a registry; returns the ids it opened, in order. */
export function runScript(registry: Registry, clock: { now: number }, script: readonly RegistryStep[]): number[] {
  const opened: number[] = [];
  for (const step of script) {
    switch (step.kind) {
      case 'open':
        opened.push(registry.open({ transport: step.transport }));
        break;
      case 'dispatch':
        if (opened.length === 0) registry.dispatch(9_999_999, step.event);
        else registry.dispatch(opened[step.target % opened.length]!, step.event);
        break;
      case 'dispatch-unknown':
        registry.dispatch(step.id, step.event);
        break;
      case 'tick':
        clock.now += step.ms;
        break;
    }
  }
  return opened;
}

export const TERMINAL_TYPES: ReadonlySet<ConnectionEvent['type']> = new Set(['FINISH', 'CLOSE', 'ERROR']);
