import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../src/errors.js';
import { checkOptions, option } from '../src/options.js';

/** What `checkOptions` threw, or a failure if it did not. */
function failure(fn: () => unknown): InvalidOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return error as InvalidOptionsError;
  }
  throw new Error('expected an InvalidOptionsError');
}

// Built inside each test rather than once at import: a rule's description is composed when the rule is built.
const rules = () => ({
  size: option.number({ integer: true, min: 0, max: 10 }),
  delay: option.number({ above: 0, of: 'milliseconds' }),
  onEvent: option.function('a function (event) => void'),
  enabled: option.boolean(),
  name: option.string(),
  headers: option.stringRecord(),
  paths: option.array(option.custom('a path starting with "/"', (v) => typeof v === 'string' && v.startsWith('/')), 1),
  anything: option.any(),
});

describe('checkOptions', () => {
  it('returns the options unchanged when every rule holds, and accepts no options at all', () => {
    const options = { size: 3, delay: 0.5, onEvent: () => {}, enabled: false, name: '', headers: { a: 'b' }, paths: ['/'], anything: Symbol('x') };
    expect(checkOptions('f', options, rules())).toBe(options);
    expect(checkOptions('f', undefined, rules())).toBeUndefined();
    expect(checkOptions('f', null, rules())).toBeNull();
    expect(checkOptions('f', { size: undefined }, rules())).toEqual({ size: undefined });
  });

  it.each([
    [{ size: -1 }, 'size', 'option "size": expected a whole number from 0 to 10, received the number -1'],
    [{ size: 1.5 }, 'size', 'expected a whole number from 0 to 10, received the number 1.5'],
    [{ size: Number.NaN }, 'size', 'received the number NaN'],
    [{ delay: 0 }, 'delay', 'option "delay": expected a number of milliseconds > 0, received the number 0'],
    [{ delay: Number.POSITIVE_INFINITY }, 'delay', 'received the number Infinity'],
    [{ delay: '5' }, 'delay', 'received the string "5"'],
    [{ onEvent: 'log' }, 'onEvent', 'option "onEvent": expected a function (event) => void, received the string "log"'],
    [{ enabled: 1 }, 'enabled', 'option "enabled": expected true or false, received the number 1'],
    [{ name: null }, 'name', 'option "name": expected a string, received null'],
    [{ headers: ['a'] }, 'headers', 'option "headers": expected an object of strings, received an array of length 1'],
    [{ headers: { 'x-n': 1 } }, 'headers.x-n', 'option "headers.x-n": expected a string, received the number 1'],
    [{ paths: [] }, 'paths', 'option "paths": expected an array of at least 1 element, received an array of length 0'],
    [{ paths: ['/', 'x'] }, 'paths.1', 'option "paths.1": expected a path starting with "/", received the string "x"'],
  ])('%j fails naming %s', (options, name, message) => {
    const error = failure(() => checkOptions('f', options, rules()));
    expect(error.code).toBe('LIFELINE_INVALID_OPTIONS');
    expect(error.message.startsWith('f: invalid options: ')).toBe(true);
    expect(error.message).toContain(message);
    expect(error.options).toEqual([name]);
  });

  it('names an unknown option and lists the known ones', () => {
    const { size, name } = rules();
    const error = failure(() => checkOptions('f', { sise: 3 }, { size, name }));
    expect(error.message).toBe('f: invalid options: unknown option "sise" (the options are size, name)');
    expect(error.options).toEqual(['sise']);
  });

  it('names every unknown option in one list', () => {
    const error = failure(() => checkOptions('f', { sise: 3, nmae: 'x' }, { size: option.number() }));
    expect(error.message).toBe('f: invalid options: unknown option "sise", "nmae" (the options are size)');
    expect(error.options).toEqual(['sise', 'nmae']);
  });

  it('reports every bad option in one error, known ones first', () => {
    const error = failure(() => checkOptions('f', { extra: 1, size: -1, enabled: 'yes' }, rules()));
    expect(error.options).toEqual(['size', 'enabled', 'extra']);
    expect(error.message.split('; ')).toHaveLength(3);
  });

  it('refuses options that are not an object', () => {
    for (const [options, received] of [[5, 'the number 5'], ['x', 'the string "x"'], [[1], 'an array of length 1']] as const) {
      const error = failure(() => checkOptions('f', options, rules()));
      expect(error.message).toBe(`f: invalid options: expected an options object, received ${received}`);
      expect(error.options).toEqual([]);
    }
  });

  it('adds what a cross-check finds, with the option it names', () => {
    const needsOne = (o: Readonly<Record<string, unknown>>) =>
      o.size === undefined && o.delay === undefined ? [{ option: 'size', message: 'give "size" or "delay"' }] : [];
    expect(() => checkOptions('f', { delay: 1 }, rules(), needsOne)).not.toThrow();
    const error = failure(() => checkOptions('f', {}, rules(), needsOne));
    expect(error.message).toBe('f: invalid options: option "size": give "size" or "delay"');
    expect(error.options).toEqual(['size']);
  });

  it('checks what the function will read: an inherited option is checked too, only own keys can be unknown', () => {
    const error = failure(() => checkOptions('f', Object.create({ size: -1, bogus: true }) as object, rules()));
    expect(error.options).toEqual(['size']);
    expect(() => checkOptions('f', Object.create({ size: 2, bogus: true }) as object, rules())).not.toThrow();
  });

  it('accepts a number on an inclusive bound and refuses one just past it; an exclusive bound refuses the bound itself', () => {
    const accepted = [{ size: 0 }, { size: 10 }, { delay: Number.MIN_VALUE }, { delay: Number.MAX_VALUE }];
    for (const options of accepted) expect(checkOptions('f', options, rules())).toBe(options);
    const refused = [{ size: -1 }, { size: 11 }, { size: 10.5 }, { delay: 0 }, { delay: -1 }];
    for (const options of refused) expect(failure(() => checkOptions('f', options, rules())).options).toEqual(Object.keys(options));
  });

  it.each([
    [{}, 'a number'],
    [{ integer: true }, 'a whole number'],
    [{ of: 'milliseconds' }, 'a number of milliseconds'],
    [{ integer: true, min: 1 }, 'a whole number >= 1'],
    [{ above: 0 }, 'a number > 0'],
    [{ max: 5 }, 'a number <= 5'],
    [{ above: 0, max: 100, of: 'milliseconds' }, 'a number of milliseconds > 0 and <= 100'],
    [{ integer: true, min: 0, max: 10, of: 'entries' }, 'a whole number of entries from 0 to 10'],
  ])('a number option with bounds %j is described as %s', (bounds, description) => {
    const error = failure(() => checkOptions('f', { n: 'x' }, { n: option.number(bounds) }));
    expect(error.message).toBe(`f: invalid options: option "n": expected ${description}, received the string "x"`);
  });

  it('refuses a value that is not a plain object where one is expected, null included', () => {
    const error = failure(() => checkOptions('f', { headers: null }, rules()));
    expect(error.message).toBe('f: invalid options: option "headers": expected an object of strings, received null');
  });
});

class Deadline {}
const forty = 'x'.repeat(40);

describe('checkOptions describes the offending value in words', () => {
  it.each([
    ['undefined', undefined, 'undefined'],
    ['an anonymous function', [() => {}][0], 'an anonymous function'],
    ['a named function', function onTick() {}, 'the function onTick'],
    ['a string of 40 characters, whole', forty, `the string "${forty}"`],
    ['a longer string, cut at 40 characters', `${forty}yz`, `the string "${forty}…"`],
    ['an instance of a class', new Deadline(), 'a Deadline'],
    ['a built-in object', new Date(0), 'a Date'],
    ['a plain object', { a: 1 }, 'a plain object'],
    ['an object without a prototype', Object.create(null), 'a plain object'],
    ['an object whose prototype has no constructor', Object.create(Object.create(null)), 'a plain object'],
    ['an instance of an anonymous class', new (class {})(), 'a plain object'],
    ['a symbol', Symbol('tick'), 'Symbol(tick)'],
    ['a bigint', 5n, 'the bigint 5'],
    ['a boolean', true, 'the boolean true'],
  ])('%s', (_, value, description) => {
    // Inside an array, so that `undefined` is checked too (an option set to undefined is an option not given).
    const error = failure(() => checkOptions('f', { paths: [value] }, rules()));
    expect(error.message).toBe(`f: invalid options: option "paths.0": expected a path starting with "/", received ${description}`);
    expect(error.options).toEqual(['paths.0']);
  });
});

/** zod and `@lifeline/core/schemas`, loaded only by the tests that use them. */
async function zodSchemas() {
  const { z } = await import('zod');
  return { z, ...(await import('../src/schemas/index.js')) };
}

describe('parseOptions (zod schemas, from @lifeline/core/schemas)', () => {
  it('throws the same InvalidOptionsError shape, naming the bad and the unknown option', async () => {
    const { z, functionOption, parseOptions } = await zodSchemas();
    const schema = z.strictObject({ retries: z.number().int().optional(), onRetry: functionOption('a function').optional() });
    expect(parseOptions(schema, { retries: 2 }, 'f')).toEqual({ retries: 2 });
    const error = failure(() => parseOptions(schema, { retries: 1.5, onRetry: 'x', extra: 1 }, 'f'));
    expect(error.message).toMatch(/^f: invalid options: /);
    expect(error.message).toContain('option "onRetry": expected a function');
    expect(error.message).toContain('unknown option "extra"');
    expect([...error.options].sort()).toEqual(['extra', 'onRetry', 'retries']);
  });

  it('reports each problem on its own, separated by "; "', async () => {
    const { z, parseOptions } = await zodSchemas();
    const error = failure(() => parseOptions(z.strictObject({ a: z.number().optional(), b: z.string().optional() }), { a: 'x', b: 1, c: 1, d: 2 }, 'f'));
    const lines = error.message.slice('f: invalid options: '.length).split('; ');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^option "a": /);
    expect(lines[1]).toMatch(/^option "b": /);
    expect(lines[2]).toBe('unknown option "c", "d"');
    expect(error.options).toEqual(['a', 'b', 'c', 'd']);
  });

  it('accepts a function where functionOption asks for one', async () => {
    const { z, functionOption, parseOptions } = await zodSchemas();
    const onRetry = () => {};
    expect(parseOptions(z.strictObject({ onRetry: functionOption('a function') }), { onRetry }, 'f')).toEqual({ onRetry });
  });

  it('names a nested option by its dotted path', async () => {
    const { z, parseOptions } = await zodSchemas();
    const error = failure(() => parseOptions(z.strictObject({ server: z.strictObject({ port: z.number() }) }), { server: { port: 'x' } }, 'f'));
    expect(error.message).toMatch(/^f: invalid options: option "server\.port": /);
    expect(error.options).toEqual(['server.port']);
  });

  it('reports a problem with the options object itself without naming an option', async () => {
    const { z, parseOptions } = await zodSchemas();
    const schema = z.strictObject({ retries: z.number().optional() });
    const error = failure(() => parseOptions(schema, 5, 'f'));
    expect(error.message).toBe(`f: invalid options: ${schema.safeParse(5).error!.issues[0]!.message}`);
    expect(error.options).toEqual([]);
  });
});
