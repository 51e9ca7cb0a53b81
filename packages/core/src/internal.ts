/**
 * What the other Lifeline packages share with core and users should not
 * call: `@lifeline/core/internal` is not part of the public API and may
 * change in any release.
 *
 * @example
 * ```ts
 * import { parseOptions } from '@lifeline/core/internal';
 * const options = parseOptions(schema, userOptions, 'instrument');
 * ```
 */
export { brandErrorClass } from './errors.js';
export { functionOption, parseOptions } from './options.js';
