import { InvalidOptionsError } from './errors.js';

/**
 * What one option must be. `check` is called only for a value that is present
 * (not `undefined`: every option is optional unless a cross-check says
 * otherwise) and returns `undefined` when the value is fine, or the problem.
 */
export interface OptionRule {
  readonly check: (value: unknown) => OptionProblem | undefined;
}

/** What was wrong with an option's value, and where inside it (`"0"` for an array's first element). */
export interface OptionProblem {
  readonly expected: string;
  readonly received: unknown;
  readonly at?: string;
}

/** A problem found by looking at several options together. */
export interface OptionIssue {
  readonly option: string;
  readonly message: string;
}

/** The rules of a function's options, by name: any other name is an unknown option. */
export type OptionRules = Readonly<Record<string, OptionRule>>;

function simple(expected: string, test: (value: unknown) => boolean): OptionRule {
  return { check: (value) => (test(value) ? undefined : { expected, received: value }) };
}

interface NumberBounds {
  /** Whole numbers only. */
  readonly integer?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
  /** What the number counts, for the message: `'milliseconds'`. */
  readonly of?: string;
}

function describeNumber(b: NumberBounds): string {
  const kind = `${b.integer === true ? 'a whole number' : 'a number'}${b.of === undefined ? '' : ` of ${b.of}`}`;
  if (b.min !== undefined && b.max !== undefined) return `${kind} from ${b.min} to ${b.max}`;
  const parts = [
    b.min !== undefined ? `>= ${b.min}` : undefined,
    b.above !== undefined ? `> ${b.above}` : undefined,
    b.max !== undefined ? `<= ${b.max}` : undefined,
  ].filter((p) => p !== undefined);
  return parts.length === 0 ? kind : `${kind} ${parts.join(' and ')}`;
}

/**
 * Rule constructors for {@link checkOptions}.
 *
 * @example
 * ```ts
 * const rules = { retries: option.number({ integer: true, min: 0 }), onRetry: option.function('a function (attempt) => void') };
 * ```
 */
export const option = {
  /** Any value: the option is known, and checked elsewhere (or not at all). */
  any: (): OptionRule => ({ check: () => undefined }),
  boolean: (): OptionRule => simple('true or false', (v) => typeof v === 'boolean'),
  string: (): OptionRule => simple('a string', (v) => typeof v === 'string'),
  /**
   * A function, checked with `typeof` only: wrapping it in a validating proxy
   * would put validation on the hot path.
   */
  function: (description: string): OptionRule => simple(description, (v) => typeof v === 'function'),
  /** A finite number within the given bounds. */
  number: (bounds: NumberBounds = {}): OptionRule =>
    simple(
      describeNumber(bounds),
      (v) =>
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (bounds.integer !== true || Number.isInteger(v)) &&
        (bounds.min === undefined || v >= bounds.min) &&
        (bounds.above === undefined || v > bounds.above) &&
        (bounds.max === undefined || v <= bounds.max),
    ),
  /** A plain object whose every value is a string (headers). */
  stringRecord: (): OptionRule => ({
    check: (value) => {
      if (!isPlainObject(value)) return { expected: 'an object of strings', received: value };
      for (const [key, v] of Object.entries(value)) if (typeof v !== 'string') return { expected: 'a string', received: v, at: key };
      return undefined;
    },
  }),
  /** An array of at least `minLength` elements, each passing `element`. */
  array: (element: OptionRule, minLength = 0): OptionRule => ({
    check: (value) => {
      if (!Array.isArray(value) || value.length < minLength) {
        return { expected: minLength > 0 ? `an array of at least ${minLength} element${minLength === 1 ? '' : 's'}` : 'an array', received: value };
      }
      for (let i = 0; i < value.length; i++) {
        const problem = element.check(value[i]);
        if (problem !== undefined) return { ...problem, at: problem.at === undefined ? String(i) : `${i}.${problem.at}` };
      }
      return undefined;
    },
  }),
  /** Anything `test` accepts, described as `expected`. */
  custom: (expected: string, test: (value: unknown) => boolean): OptionRule => simple(expected, test),
} as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value in words, for the message: short, and never the whole of a large object. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'function':
      return value.name === '' ? 'an anonymous function' : `the function ${value.name}`;
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'object': {
      const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'a plain object';
    }
    case 'symbol':
      return String(value);
    default:
      return `the ${typeof value} ${String(value)}`;
  }
}

/**
 * Checks the options given to a public function against `rules` (and, when
 * given, `crossCheck`, for rules that span several options), and throws one
 * {@link InvalidOptionsError} naming every bad or unknown option. `undefined`
 * and `null` mean "no options". Returns the options unchanged.
 *
 * It is hand-written rather than a schema library on purpose: importing a
 * validation library would cost every process that imports Lifeline more at
 * startup than all of Lifeline. Call it once per call of a public function,
 * never per connection.
 *
 * @example
 * ```ts
 * const o = checkOptions('startPoller', options, { interval: option.number({ min: 1, of: 'milliseconds' }) });
 * // startPoller: invalid options: option "interval": expected a number of milliseconds >= 1, received the string "1s"
 * ```
 */
export function checkOptions<T>(
  where: string,
  options: T,
  rules: OptionRules,
  crossCheck?: (options: Readonly<Record<string, unknown>>) => readonly OptionIssue[],
): T {
  const input: unknown = options ?? {};
  if (!isPlainObject(input)) {
    throw new InvalidOptionsError(`${where}: invalid options: expected an options object, received ${describe(input)}`, []);
  }
  const names: string[] = [];
  const lines: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const value = input[name];
    if (value === undefined) continue;
    const problem = rule.check(value);
    if (problem === undefined) continue;
    const path = problem.at === undefined ? name : `${name}.${problem.at}`;
    names.push(path);
    lines.push(`option "${path}": expected ${problem.expected}, received ${describe(problem.received)}`);
  }
  const unknown = Object.keys(input).filter((name) => !Object.hasOwn(rules, name));
  if (unknown.length > 0) {
    names.push(...unknown);
    const known = Object.keys(rules).join(', ');
    lines.push(`unknown option ${unknown.map((n) => `"${n}"`).join(', ')} (the options are ${known})`);
  }
  if (crossCheck !== undefined) {
    for (const issue of crossCheck(input)) {
      names.push(issue.option);
      lines.push(`option "${issue.option}": ${issue.message}`);
    }
  }
  if (lines.length > 0) throw new InvalidOptionsError(`${where}: invalid options: ${lines.join('; ')}`, names);
  return options;
}
