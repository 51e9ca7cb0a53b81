import { InvalidOptionsError, type Registry } from '@lifeline/core';
import { option } from '@lifeline/core/internal';
import { invalidArgument, received } from './invalidArgument.js';

/**
 * The per-request entry points check their one required option by hand: a
 * schema parse on every request would cost more than the tracking itself.
 */
export function checkRegistry(options: { registry?: unknown } | undefined, where: string): void {
  const registry = options?.registry as Partial<Registry<unknown>> | undefined;
  if (typeof registry?.open !== 'function' || typeof registry.dispatch !== 'function') {
    throw new InvalidOptionsError(
      `${where}: option "registry": expected a registry made by createRegistry(), received ${received(registry)}`,
      ['registry'],
    );
  }
}

/** A `registry` option checked by a rule, where options are checked once (not per request). */
export const registryOption = option.custom(
  'a registry made by createRegistry()',
  (v) => typeof v === 'object' && v !== null && typeof (v as Registry).dispatch === 'function' && typeof (v as Registry).open === 'function',
);

/** A registry passed as an argument (`startWatchdog`, `drain`): all of it is used, so all of it is checked. */
export function checkRegistryArgument(registry: unknown, where: string): void {
  const r = registry as Partial<Registry<unknown>> | null | undefined;
  if (
    typeof r?.open !== 'function' ||
    typeof r.dispatch !== 'function' ||
    typeof r.list !== 'function' ||
    typeof r.onRelease !== 'function' ||
    typeof r.size !== 'number'
  ) {
    throw invalidArgument(
      where,
      'registry',
      'a registry made by createRegistry()',
      registry,
      `Pass instrument(server).registry, or a registry from createRegistry(): ${where}(registry, ...).`,
    );
  }
}
