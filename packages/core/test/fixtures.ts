import type { ConnectionEvent } from '../src/events.js';
import { createRegistry, type RegistryOptions } from '../src/registry.js';

/** A registry on a fake clock that tests move by hand. */
export function fakeClockRegistry(options: Omit<RegistryOptions, 'clock'> = {}) {
  const clock = { now: 1_000 };
  const registry = createRegistry({ ...options, clock: () => clock.now });
  return { registry, clock };
}

export const TERMINAL_TYPES: ReadonlySet<ConnectionEvent['type']> = new Set(['FINISH', 'CLOSE', 'ERROR']);
