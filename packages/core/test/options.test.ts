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

const rules = {
  size: option.number({ integer: true, min: 0, max: 10 }),
  delay: option.number({ above: 0, of: 'milliseconds' }),
  onEvent: option.function('a function (event) => void'),
  enabled: option.boolean(),
  name: option.string(),
  headers: option.stringRecord(),
  paths: option.array(option.custom('a path starting with "/"', (v) => typeof v === 'string' && v.startsWith('/')), 1),
  anything: option.any(),
};

describe('checkOptions', () => {
  it('returns the options unchanged when every rule holds, and accepts no options at all', () => {
    const options = { size: 3, delay: 0.5, onEvent: () => {}, enabled: false, name: '', headers: { a: 'b' }, paths: ['/'], anything: Symbol('x') };
    expect(checkOptions('f', options, rules)).toBe(options);
    expect(checkOptions('f', undefined, rules)).toBeUndefined();
    expect(checkOptions('f', null, rules)).toBeNull();
    expect(checkOptions('f', { size: undefined }, rules)).toEqual({ size: undefined });
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
    const error = failure(() => checkOptions('f', options, rules));
    expect(error.code).toBe('LIFELINE_INVALID_OPTIONS');
    expect(error.message.startsWith('f: invalid options: ')).toBe(true);
    expect(error.message).toContain(message);
    expect(error.options).toEqual([name]);
  });

  it('names an unknown option and lists the known ones', () => {
    const error = failure(() => checkOptions('f', { sise: 3 }, { size: rules.size, name: rules.name }));
    expect(error.message).toBe('f: invalid options: unknown option "sise" (the options are size, name)');
    expect(error.options).toEqual(['sise']);
  });

  it('reports every bad option in one error, known ones first', () => {
    const error = failure(() => checkOptions('f', { extra: 1, size: -1, enabled: 'yes' }, rules));
    expect(error.options).toEqual(['size', 'enabled', 'extra']);
    expect(error.message.split('; ')).toHaveLength(3);
  });

  it('refuses options that are not an object', () => {
    for (const [options, received] of [[5, 'the number 5'], ['x', 'the string "x"'], [[1], 'an array of length 1']] as const) {
      const error = failure(() => checkOptions('f', options, rules));
      expect(error.message).toBe(`f: invalid options: expected an options object, received ${received}`);
      expect(error.options).toEqual([]);
    }
  });

  it('adds what a cross-check finds, with the option it names', () => {
    const needsOne = (o: Readonly<Record<string, unknown>>) =>
      o.size === undefined && o.delay === undefined ? [{ option: 'size', message: 'give "size" or "delay"' }] : [];
    expect(() => checkOptions('f', { delay: 1 }, rules, needsOne)).not.toThrow();
    const error = failure(() => checkOptions('f', {}, rules, needsOne));
    expect(error.message).toBe('f: invalid options: option "size": give "size" or "delay"');
    expect(error.options).toEqual(['size']);
  });

  it('checks what the function will read: an inherited option is checked too, only own keys can be unknown', () => {
    const error = failure(() => checkOptions('f', Object.create({ size: -1, bogus: true }) as object, rules));
    expect(error.options).toEqual(['size']);
    expect(() => checkOptions('f', Object.create({ size: 2, bogus: true }) as object, rules)).not.toThrow();
  });
});

describe('parseOptions (zod schemas, from @lifeline/core/schemas)', () => {
  it('throws the same InvalidOptionsError shape, naming the bad and the unknown option', async () => {
    const { z } = await import('zod');
    const { functionOption, parseOptions } = await import('../src/schemas/index.js');
    const schema = z.strictObject({ retries: z.number().int().optional(), onRetry: functionOption('a function').optional() });
    expect(parseOptions(schema, { retries: 2 }, 'f')).toEqual({ retries: 2 });
    const error = failure(() => parseOptions(schema, { retries: 1.5, onRetry: 'x', extra: 1 }, 'f'));
    expect(error.message).toMatch(/^f: invalid options: /);
    expect(error.message).toContain('option "onRetry": expected a function');
    expect(error.message).toContain('unknown option "extra"');
    expect([...error.options].sort()).toEqual(['extra', 'onRetry', 'retries']);
  });
});
