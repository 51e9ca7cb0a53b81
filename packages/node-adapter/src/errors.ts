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

/** Why `sendFile` with a `root` refused a path (see {@link PathRefusedError}). */
export type PathRefusedReason =
  | 'traversal'
  | 'encoded-separator'
  | 'backslash'
  | 'nul-byte'
  | 'absolute'
  | 'malformed-encoding'
  | 'dotfile'
  | 'symlink-outside-root'
  | 'missing'
  | 'unreadable';

/**
 * `sendFile` with a `root` did not open a path: it would have left the root,
 * was malformed, or names nothing under the root. It is what the
 * `SendResult.error` of that call holds (the client got a 400, 403 or 404);
 * it is never thrown.
 *
 * @example
 * ```ts
 * const { status, error } = await sendFile(res, req.url!, { root: './public' });
 * if (error instanceof PathRefusedError && error.reason !== 'missing') log.warn({ url: req.url, reason: error.reason });
 * ```
 */
export class PathRefusedError extends LifelineError {
  readonly reason: PathRefusedReason;
  /** The path as `sendFile` received it. */
  readonly path: string;
  constructor(reason: PathRefusedReason, path: string, detail: string) {
    super('LIFELINE_PATH_REFUSED', `sendFile: refused ${JSON.stringify(path)}: ${detail}`);
    this.name = 'PathRefusedError';
    this.reason = reason;
    this.path = path;
  }
}

// The leak checks of both packages throw the same class: it lives in the core, next to the transport-neutral check.
export { LeakError } from '@lifeline/core';

/**
 * `checkNoLeaks` passed, but an ending it was asked to exercise never
 * happened (by default: no client ever left before the response was
 * complete, so the handler's disconnect path was never tested).
 *
 * @example
 * ```ts
 * // a handler answering 256 KB synchronously: every client finds the response complete
 * await expect(checkNoLeaks((req, res) => res.end(big))).rejects.toThrow(EndingNotExercisedError);
 * ```
 */
export class EndingNotExercisedError extends LifelineError {
  /** The outcomes asked for that no connection ended with, e.g. `['closed']`. */
  readonly missing: readonly string[];
  constructor(message: string, missing: readonly string[]) {
    super('LIFELINE_ENDING_NOT_EXERCISED', message);
    this.name = 'EndingNotExercisedError';
    this.missing = missing;
  }
}

/**
 * An optional peer dependency a function needs is not installed
 * (`checkNoLeaks` needs `fast-check`). The message names the package and the
 * command that installs it.
 *
 * @example
 * ```ts
 * catch (err) { if (err instanceof MissingPeerDependencyError) console.error(`npm i -D ${err.packageName}`) }
 * ```
 */
export class MissingPeerDependencyError extends LifelineError {
  readonly packageName: string;
  constructor(message: string, packageName: string, cause: unknown) {
    super('LIFELINE_MISSING_PEER_DEPENDENCY', message, { cause });
    this.name = 'MissingPeerDependencyError';
    this.packageName = packageName;
  }
}
