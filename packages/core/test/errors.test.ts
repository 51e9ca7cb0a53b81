import { describe, expect, it, vi } from 'vitest';
import * as first from '../src/errors.js';
import { InvalidArgumentError, InvalidOptionsError, LifelineError, UncompilableMachineError } from '../src/errors.js';

/** A second evaluation of the errors module: what a second installed copy of the package is to the first. */
async function secondCopy(): Promise<typeof first> {
  vi.resetModules();
  return import('../src/errors.js');
}

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
    expect((null as unknown) instanceof LifelineError).toBe(false);
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

  it('the brand stays out of enumeration and JSON, so logs and snapshots show only code, name and fields', () => {
    const error = new InvalidArgumentError('instrument: argument "server"', 'server');
    expect(Object.keys(error).sort()).toEqual(['argument', 'code', 'name']);
    expect(Object.getOwnPropertySymbols(error).map(String)).toEqual(['Symbol(lifeline.error)']);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ argument: 'server', code: 'LIFELINE_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
  });
});
