import { LifelineError, type CloseReason, type ErrorReason } from '@lifeline/core';

/** The abort reason of a connection's `signal` when the peer or the link went away. */
export class ConnectionClosedError extends LifelineError {
  readonly reason: CloseReason;
  constructor(reason: CloseReason) {
    super('LIFELINE_CONNECTION_CLOSED', `the connection was closed before the response was complete (${reason})`);
    this.name = 'ConnectionClosedError';
    this.reason = reason;
  }
}

/** The abort reason of a connection's `signal` when the server side failed. */
export class ConnectionErroredError extends LifelineError {
  readonly reason: ErrorReason;
  constructor(reason: ErrorReason, cause?: unknown) {
    super('LIFELINE_CONNECTION_ERRORED', `the connection ended with an error (${reason})`, { cause });
    this.name = 'ConnectionErroredError';
    this.reason = reason;
  }
}

/**
 * `instrument` was called on a server that is instrumented already, with
 * options that the first call's instrumentation does not have. Use the first
 * call's result, or `detach()` it before instrumenting again.
 */
export class AlreadyInstrumentedError extends LifelineError {
  /** The options of the second call that conflict with the first, e.g. `['meta']`. */
  readonly options: readonly string[];
  constructor(message: string, options: readonly string[]) {
    super('LIFELINE_ALREADY_INSTRUMENTED', message);
    this.name = 'AlreadyInstrumentedError';
    this.options = options;
  }
}
