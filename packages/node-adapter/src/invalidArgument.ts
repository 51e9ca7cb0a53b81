import { InvalidArgumentError } from '@lifeline/core';

/**
 * What a caller passed, in words, for an error message. Express and Koa apps
 * get named: handing one to `instrument` is the usual mistake, and they look
 * enough like a server (`.listen`, an EventEmitter) that a vaguer message would
 * not point at the fix.
 */
export function received(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') {
    if (typeof (value as { listen?: unknown }).listen === 'function') return 'an Express-style app (a request handler function with .listen())';
    return value.name === '' ? 'an anonymous function' : `the function ${value.name}`;
  }
  if (typeof value === 'object') {
    const o = value as { callback?: unknown; listen?: unknown };
    if (typeof o.callback === 'function' && typeof o.listen === 'function') return 'a Koa-style app (an object with .callback() and .listen())';
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'a plain object';
  }
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'symbol') return String(value);
  return `the ${typeof value} ${String(value)}`;
}

/** True for an Express-style (function with `.listen`) or Koa-style (object with `.callback` and `.listen`) app. */
export function isFrameworkApp(value: unknown): boolean {
  const app = value as { listen?: unknown; callback?: unknown } | null | undefined;
  if (typeof app?.listen !== 'function') return false;
  return typeof value === 'function' || typeof app.callback === 'function';
}

/**
 * The error for a bad positional argument of `where`: it names the argument,
 * what was expected, what was received, and the fix.
 */
export function invalidArgument(where: string, argument: string, expected: string, value: unknown, fix: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where}: argument "${argument}": expected ${expected}, received ${received(value)}. ${fix}`, argument);
}

/**
 * The options argument itself must be an object (or left out: `undefined` and
 * `null` mean "no options"); the options inside are each function's schema's
 * business and fail as an `InvalidOptionsError`.
 */
export function checkOptionsArgument(where: string, options: unknown): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgument(where, 'options', 'an options object', options, `Pass an object such as ${where}(..., { ... }), or leave it out.`);
  }
}

/** Looks like a `ServerResponse` or `Http2ServerResponse`: what `sendFile` and `pipeResponse` write to. */
export function isResponse(value: unknown): boolean {
  const res = value as { setHeader?: unknown; write?: unknown; end?: unknown; on?: unknown } | null | undefined;
  return (
    typeof value === 'object' &&
    typeof res?.setHeader === 'function' &&
    typeof res.write === 'function' &&
    typeof res.end === 'function' &&
    typeof res.on === 'function'
  );
}
