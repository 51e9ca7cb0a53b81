/**
 * Marks every Lifeline error with its `code`. `Symbol.for` makes it the same
 * symbol in every installed copy of the packages, so `instanceof` still holds
 * for an error thrown by another copy (two versions in one `node_modules` tree).
 */
const kLifelineError = Symbol.for('lifeline.error');
/**
 * The code a class stands for, on the class itself: what a branded error from another copy is matched
 * against. `Symbol.for` too: the built core holds two copies of this module (its root bundle and the
 * internal one), and the adapter's classes extend one copy's LifelineError but are branded by the other's.
 */
const kClassCode = Symbol.for('lifeline.classCode');

/** The stable code of every Lifeline error. */
export type LifelineErrorCode = `LIFELINE_${string}`;

/**
 * Every error Lifeline throws is a {@link LifelineError}: it has a stable
 * `code` (`LIFELINE_*`) to branch on and a `name` to read in logs.
 * `instanceof` works across two installed copies of the packages: errors are
 * branded with `Symbol.for('lifeline.error')` and each class recognises its own code.
 *
 * @example
 * ```ts
 * try { createRegistry({ journalSize: -1 }) }
 * catch (err) { if (err instanceof LifelineError && err.code === 'LIFELINE_INVALID_OPTIONS') ... }
 * ```
 */
export class LifelineError extends Error {
  readonly code: LifelineErrorCode;

  constructor(code: LifelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LifelineError';
    this.code = code;
    // Not enumerable: the brand stays out of logs, JSON and test diffs.
    Object.defineProperty(this, kLifelineError, { value: code });
  }

  /**
   * This copy's classes by prototype; another copy's errors by their brand:
   * `LifelineError` matches every branded error, a subclass those carrying its code.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // `?.` for null and undefined; off any other primitive the read gives undefined, as off an unbranded object.
    const brand = (value as Record<symbol, unknown> | null | undefined)?.[kLifelineError];
    if (typeof brand !== 'string') return false;
    if (this === LifelineError) return true;
    // Only a class that declared its code is matched by brand: a user's subclass is matched by prototype only.
    return Object.hasOwn(this, kClassCode) && (this as unknown as Record<symbol, unknown>)[kClassCode] === brand;
  }
}

/**
 * Declares the code `errorClass` stands for, so `instanceof errorClass` also
 * recognises its errors thrown by another installed copy. Internal: every
 * Lifeline error class calls it once, in a static block.
 */
export function brandErrorClass(errorClass: abstract new (...args: never[]) => LifelineError, code: LifelineErrorCode): void {
  Object.defineProperty(errorClass, kClassCode, { value: code });
}

/** An option given to a public function is missing, of the wrong type or unknown. */
export class InvalidOptionsError extends LifelineError {
  static {
    brandErrorClass(this, 'LIFELINE_INVALID_OPTIONS');
  }
  declare readonly code: 'LIFELINE_INVALID_OPTIONS';
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
  static {
    brandErrorClass(this, 'LIFELINE_INVALID_ARGUMENT');
  }
  declare readonly code: 'LIFELINE_INVALID_ARGUMENT';
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
  static {
    brandErrorClass(this, 'LIFELINE_UNCOMPILABLE_MACHINE');
  }
  declare readonly code: 'LIFELINE_UNCOMPILABLE_MACHINE';
  /** The offending state's name, when one state is to blame. */
  readonly state: string | undefined;
  constructor(message: string, state?: string) {
    super('LIFELINE_UNCOMPILABLE_MACHINE', message);
    this.name = 'UncompilableMachineError';
    this.state = state;
  }
}

/**
 * The reason a connection handle's `signal` aborts with: the connection was
 * released. Named `'AbortError'`, like the errors `fetch` and timers reject
 * with when aborted, so ordinary abort checks work on it.
 *
 * @example
 * ```ts
 * handle.signal.addEventListener('abort', () => {
 *   const reason = handle.signal.reason as ConnectionEndedError;
 *   console.log(reason.outcome, reason.event.type);
 * });
 * ```
 */
export class ConnectionEndedError extends LifelineError {
  static {
    brandErrorClass(this, 'LIFELINE_CONNECTION_ENDED');
  }
  declare readonly code: 'LIFELINE_CONNECTION_ENDED';
  /** The final state the connection was released in. */
  readonly outcome: string;
  /** The terminal fact that released it. */
  readonly event: { readonly type: string };
  constructor(outcome: string, event: { readonly type: string }) {
    super('LIFELINE_CONNECTION_ENDED', `the connection ended (${outcome}, on ${event.type})`);
    this.name = 'AbortError';
    this.outcome = outcome;
    this.event = event;
  }
}

/**
 * A leak check found a leak: `checkTransportForLeaks` (`@lifeline/core/testing`)
 * or `checkNoLeaks` (`@lifeline/node-adapter/testing`). The message says it in
 * plain words: what the clients did, shrunk by fast-check to a small case, and
 * what remained in flight. `cause` holds what failed inside the run.
 *
 * @example
 * ```ts
 * await expect(checkTransportForLeaks(subject)).rejects.toThrow(LeakError);
 * ```
 */
export class LeakError extends LifelineError {
  static {
    brandErrorClass(this, 'LIFELINE_LEAK');
  }
  declare readonly code: 'LIFELINE_LEAK';
  /** fast-check's seed and path: pass them back as `seed` and `replayPath` to replay this counterexample. */
  readonly seed: number;
  readonly replayPath: string | undefined;
  constructor(message: string, seed: number, replayPath: string | undefined, cause: unknown) {
    super('LIFELINE_LEAK', message, { cause });
    this.name = 'LeakError';
    this.seed = seed;
    this.replayPath = replayPath;
  }
}
