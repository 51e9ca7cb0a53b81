import { InvalidOptionsError, type Registry } from '@lifeline/core';

/**
 * The per-request entry points check their one required option by hand: a
 * schema parse on every request would cost more than the tracking itself.
 */
export function checkRegistry(options: { registry?: unknown } | undefined, where: string): void {
  const registry = options?.registry as Partial<Registry<unknown>> | undefined;
  if (typeof registry?.open !== 'function' || typeof registry.dispatch !== 'function') {
    throw new InvalidOptionsError(`${where}: option "registry": expected a registry made by createRegistry()`, ['registry']);
  }
}
