import { z } from 'zod';
// Through the package's root (a self-reference), so that `@lifeline/core/schemas` throws the root's error class.
import { InvalidOptionsError } from '@lifeline/core';

// Options validation with a zod schema, for your own functions: the same InvalidOptionsError
// and message shape as Lifeline's. Lifeline itself checks its options with `checkOptions`
// (options.ts), which loads no zod.

/**
 * A zod schema for an option that must be a function. Functions are checked
 * with `typeof` only: wrapping them in a validating proxy would put
 * validation on the hot path.
 */
export function functionOption<F extends (...args: never[]) => unknown>(description: string) {
  return z.custom<F>((value) => typeof value === 'function', { message: `expected ${description}` });
}

/**
 * Validates `input` against `schema` at a public boundary and throws an
 * {@link InvalidOptionsError} whose message names every bad option.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { parseOptions } from '@lifeline/core/schemas';
 * const options = parseOptions(z.strictObject({ retries: z.number().int().optional() }), userOptions, 'startClient');
 * ```
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const names: string[] = [];
  const lines = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.map(String).join('.')];
    names.push(...keys.filter((k) => k !== ''));
    const label = keys.filter((k) => k !== '').map((k) => `"${k}"`).join(', ');
    if (issue.code === 'unrecognized_keys') return `unknown option ${label}`;
    return label === '' ? issue.message : `option ${label}: ${issue.message}`;
  });
  throw new InvalidOptionsError(`${where}: invalid options: ${lines.join('; ')}`, names);
}
