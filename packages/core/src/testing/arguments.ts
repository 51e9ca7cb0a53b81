import { InvalidArgumentError } from '@lifeline/core';

function received(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return value.name === '' ? 'an anonymous function' : `the function ${value.name}`;
  if (typeof value === 'object') return 'an object without them';
  return `the ${typeof value} ${JSON.stringify(value) ?? String(value)}`;
}

/** The error for a bad positional argument of a testing helper: it names the argument, what was expected, what came, and the fix. */
export function invalidArgument(where: string, argument: string, expected: string, value: unknown, fix: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where}: argument "${argument}": expected ${expected}, received ${received(value)}. ${fix}`, argument);
}

/** True when `value` is an object (or function) with a function under each of `methods`. */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  return methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}
