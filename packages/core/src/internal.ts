/**
 * What the other Lifeline packages share with core and users should not
 * call: `@lifeline/core/internal` is not part of the public API and may
 * change in any release.
 *
 * @example
 * ```ts
 * import { checkOptions, option } from '@lifeline/core/internal';
 * const o = checkOptions('drain', options, { deadline: option.number() });
 * ```
 */
export { bindToCaller } from './asyncContext.js';
export { connectionTable } from './connectionTable.generated.js';
export { brandErrorClass } from './errors.js';
export { checkOptions, option, type OptionIssue, type OptionProblem, type OptionRule, type OptionRules } from './options.js';
export { registryOptionRules } from './registryOptionRules.js';
export { clientRuns, plural, RunLeak, runLeakCheck, settled, type LeakCheck } from './testing/runLeakCheck.js';
