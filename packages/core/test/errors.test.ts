import { describe, expect, it, vi } from 'vitest';
import * as first from '../src/errors.js';
import { InvalidArgumentError, InvalidOptionsError, LifelineError, UncompilableMachineError } from '../src/errors.js';

/** A second evaluation of the errors module: what a second installed copy of the package is to the first. */
async function secondCopy(): Promise<typeof first> {
  vi.resetModules();
  return import('../src/errors.js');
}

/** One error of each class, made by the given copy of the module, with the code and name it must carry. */
const everyClass = [
  { name: 'InvalidOptionsError', code: 'LIFELINE_INVALID_OPTIONS', make: (m: typeof first) => new m.InvalidOptionsError('x', ['journalSize']) },
  { name: 'InvalidArgumentError', code: 'LIFELINE_INVALID_ARGUMENT', make: (m: typeof first) => new m.InvalidArgumentError('x', 'server') },
  { name: 'UncompilableMachineError', code: 'LIFELINE_UNCOMPILABLE_MACHINE', make: (m: typeof first) => new m.UncompilableMachineError('x', 'idle') },
  { name: 'AbortError', code: 'LIFELINE_CONNECTION_ENDED', make: (m: typeof first) => new m.ConnectionEndedError('finished', { type: 'FINISH' }) },
  { name: 'LeakError', code: 'LIFELINE_LEAK', make: (m: typeof first) => new m.LeakError('x', 1, undefined, undefined) },
] as const;

describe('error codes and names', () => {
  it.each(everyClass)('$name carries the code $code', ({ name, code, make }) => {
    const error = make(first);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(String(error)).toBe(`${name}: ${error.message}`);
  });

  it('a LifelineError made directly, as the model-based toolkit reports a mismatch, is named LifelineError', () => {
    const error = new LifelineError('LIFELINE_MODEL_MISMATCH', 'x');
    expect(error.name).toBe('LifelineError');
    expect(error.code).toBe('LIFELINE_MODEL_MISMATCH');
  });
});

describe('errors are recognised across two installed copies of the package', () => {
  it('the second copy really is another module: its classes are other classes', async () => {
    const second = await secondCopy();
    expect(second.LifelineError).not.toBe(LifelineError);
    expect(second.InvalidOptionsError).not.toBe(InvalidOptionsError);
  });

  it("an error of one copy is an instance of the other copy's class of the same code, and of LifelineError", async () => {
    const second = await secondCopy();
    const error = new second.InvalidOptionsError('createRegistry: invalid options', ['journalSize']);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toBeInstanceOf(LifelineError);
    expect(new InvalidArgumentError('x', 'server')).toBeInstanceOf(second.InvalidArgumentError);
    expect(new UncompilableMachineError('x')).toBeInstanceOf(second.LifelineError);
  });

  it.each(everyClass)("a $code error of either copy is an instance of the other copy's class of that code", async ({ make }) => {
    const second = await secondCopy();
    const fromFirst = make(first);
    const fromSecond = make(second);
    expect(fromFirst).toBeInstanceOf(fromSecond.constructor);
    expect(fromSecond).toBeInstanceOf(fromFirst.constructor);
    expect(fromSecond.constructor).not.toBe(fromFirst.constructor);
  });

  it("an error of one copy is not an instance of the other copy's class of another code", async () => {
    const second = await secondCopy();
    const error = new second.InvalidOptionsError('x', []);
    expect(error instanceof InvalidArgumentError).toBe(false);
    expect(error instanceof UncompilableMachineError).toBe(false);
  });

  it('errors without the brand are not Lifeline errors, whatever their code or name', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'LIFELINE_INVALID_OPTIONS', name: 'InvalidOptionsError' });
    expect(lookalike instanceof LifelineError).toBe(false);
    expect(lookalike instanceof InvalidOptionsError).toBe(false);
    for (const primitive of [null, undefined, 'LIFELINE_INVALID_OPTIONS', 1, true, Symbol.for('lifeline.error')]) {
      expect((primitive as unknown) instanceof LifelineError).toBe(false);
    }
    expect(('LIFELINE_INVALID_OPTIONS' as unknown) instanceof InvalidOptionsError).toBe(false);
  });

  it("a user's subclass matches its own instances only, not another copy's errors of its parent's code", async () => {
    class NamedOptionsError extends InvalidOptionsError {}
    const second = await secondCopy();
    expect(new NamedOptionsError('x', []) instanceof NamedOptionsError).toBe(true);
    expect(new NamedOptionsError('x', []) instanceof second.InvalidOptionsError).toBe(true);
    expect(new second.InvalidOptionsError('x', []) instanceof NamedOptionsError).toBe(false);
    expect(new InvalidOptionsError('x', []) instanceof NamedOptionsError).toBe(false);
  });

  it("a class extending one copy's LifelineError and branded by another copy's brandErrorClass recognises its code's errors from any copy", async () => {
    // The built packages hold two copies of this module (the core's root bundle and its internal bundle):
    // the adapter's error classes extend the root's LifelineError and are branded through the internal one.
    const second = await secondCopy();
    class TransportGoneError extends LifelineError {
      static {
        second.brandErrorClass(this, 'LIFELINE_TRANSPORT_GONE');
      }
      constructor() {
        super('LIFELINE_TRANSPORT_GONE', 'x');
      }
    }
    class OtherCopysTransportGoneError extends second.LifelineError {
      static {
        second.brandErrorClass(this, 'LIFELINE_TRANSPORT_GONE');
      }
      constructor() {
        super('LIFELINE_TRANSPORT_GONE', 'x');
      }
    }
    expect(new OtherCopysTransportGoneError()).toBeInstanceOf(TransportGoneError);
    expect(new TransportGoneError()).toBeInstanceOf(OtherCopysTransportGoneError);
    expect(new second.InvalidOptionsError('x', []) instanceof TransportGoneError).toBe(false);
  });

  it('the brand stays out of enumeration and JSON, so logs and snapshots show only code, name and fields', () => {
    const error = new InvalidArgumentError('instrument: argument "server"', 'server');
    expect(Object.keys(error).sort()).toEqual(['argument', 'code', 'name']);
    expect(Object.getOwnPropertySymbols(error).map(String)).toEqual(['Symbol(lifeline.error)']);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ argument: 'server', code: 'LIFELINE_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
  });
});
