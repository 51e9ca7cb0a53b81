/**
 * Every error Lifeline throws is a {@link LifelineError}: it has a stable
 * `code` (`LIFELINE_*`) to branch on and a `name` to read in logs.
 *
 * @example
 * ```ts
 * try { createRegistry({ journalSize: -1 }) }
 * catch (err) { if (err instanceof LifelineError && err.code === 'LIFELINE_INVALID_OPTIONS') ... }
 * ```
 */
export class LifelineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LifelineError';
    this.code = code;
  }
}

/** An option given to a public function is missing, of the wrong type or unknown. */
export class InvalidOptionsError extends LifelineError {
  /** Dotted path of every offending option, e.g. `['journalSize']`. */
  readonly options: readonly string[];
  constructor(message: string, options: readonly string[]) {
    super('LIFELINE_INVALID_OPTIONS', message);
    this.name = 'InvalidOptionsError';
    this.options = options;
  }
}

/**
 * A positional argument of a public function is missing or of the wrong kind
 * (options objects report through {@link InvalidOptionsError} instead). The
 * message names the function and the argument, says what was expected and
 * what was received, and how to fix the call.
 *
 * @example
 * ```ts
 * try { instrument(app) }
 * catch (err) { if (err instanceof InvalidArgumentError) console.error(err.argument, err.message) }
 * ```
 */
export class InvalidArgumentError extends LifelineError {
  /** The offending argument's name, e.g. `'server'`. */
  readonly argument: string;
  constructor(message: string, argument: string) {
    super('LIFELINE_INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/** `compileMachine` was given a machine whose behaviour a state × event table cannot reproduce. */
export class UncompilableMachineError extends LifelineError {
  constructor(message: string) {
    super('LIFELINE_UNCOMPILABLE_MACHINE', message);
    this.name = 'UncompilableMachineError';
  }
}
