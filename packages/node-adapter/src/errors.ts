import { LifelineError, type CloseReason, type ErrorReason } from '@lifeline/core';
import { brandErrorClass } from '@lifeline/core/internal';

/**
 * The abort reason of a connection's `signal` when the peer or the link went
 * away. Its `name` is `'AbortError'`, like the reason of an aborted `fetch`
 * (and undici's `RequestAbortedError`), so the usual `err.name === 'AbortError'`
 * check recognises it; `instanceof` and `code` tell it from other aborts.
 *
 * @example
 * ```ts
 * try { await db.query(sql, { signal: connection.signal }) }
 * catch (err) { if (err instanceof ConnectionClosedError) return; throw err } // the client left
 * ```
 */
export class ConnectionClosedError extends LifelineError {
  static {
    brandErrorClass(this, 'LIFELINE_CONNECTION_CLOSED');
  }
  declare readonly code: 'LIFELINE_CONNECTION_CLOSED';
  readonly reason: CloseReason;
  constructor(reason: CloseReason) {
    super('LIFELINE_CONNECTION_CLOSED', `the connection was closed before the response was complete (${reason})`);
    this.name = 'AbortError';
    this.reason = reason;
  }
}

/**
 * The abort reason of a connection's `signal` when the server side failed
 * (`connection.fail()`, a handler error, the watchdog, `drain`'s deadline).
 * Its `name` is `'AbortError'` too: for the work the signal cancelled, it is an abort.
 *
 * @example
 * ```ts
 * connection.signal.addEventListener('abort', () => {
 *   if (connection.signal.reason instanceof ConnectionErroredError) log.warn(connection.signal.reason.reason);
 * });
 * ```
 */
export class ConnectionErroredError extends LifelineError {
  static {
    brandErrorClass(this, 'LIFELINE_CONNECTION_ERRORED');
  }
  declare readonly code: 'LIFELINE_CONNECTION_ERRORED';
  readonly reason: ErrorReason;
  constructor(reason: ErrorReason, cause?: unknown) {
    super('LIFELINE_CONNECTION_ERRORED', `the connection ended with an error (${reason})`, { cause });
    this.name = 'AbortError';
    this.reason = reason;
  }
}

/**
 * `instrument` was called on a server that is instrumented already, with
 * options that the first call's instrumentation does not have. Use the first
 * call's result, or `detach()` it before instrumenting again.
 *
 * @example
 * ```ts
 * try { instrument(server, { meta }) }
 * catch (err) { if (err instanceof AlreadyInstrumentedError) console.error(err.options) } // ['meta']
 * ```
 */
export class AlreadyInstrumentedError extends LifelineError {
  static {
    brandErrorClass(this, 'LIFELINE_ALREADY_INSTRUMENTED');
  }
  declare readonly code: 'LIFELINE_ALREADY_INSTRUMENTED';
  /** The options of the second call that conflict with the first, e.g. `['meta']`. */
  readonly options: readonly string[];
  constructor(message: string, options: readonly string[]) {
    super('LIFELINE_ALREADY_INSTRUMENTED', message);
    this.name = 'AlreadyInstrumentedError';
    this.options = options;
  }
}
