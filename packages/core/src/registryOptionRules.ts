import { option } from './options.js';

/**
 * The rules of the registry options, for `checkOptions`: createRegistry() checks its options with them, and
 * so do functions that take registry options to make a registry, so that one error names every bad option.
 *
 * @example
 * ```ts
 * checkOptions('instrument', options, { journalSize: registryOptionRules.journalSize, meta: option.function('a function') });
 * ```
 */
export const registryOptionRules = {
  clock: option.function('a function returning the time in milliseconds'),
  journalSize: option.number({ integer: true, min: 0, max: 4096 }),
  onListenerError: option.function('a function (error, context) => void'),
  onRecord: option.function('a function (record) => void'),
  transport: option.string(),
  childEnd: option.custom('an event object with a string "type"', (v) => typeof (v as { type?: unknown } | null)?.type === 'string'),
};
