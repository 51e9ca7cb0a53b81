// Types for `require('@lifeline/on-finished')` (and `require('on-finished')` under an override):
// the CommonJS entry exports the function itself, with isFinished on it, as on-finished does.
declare namespace onFinished {
  /** Called once when the message has finished: `err` is the socket's error, or `null` on a normal end. */
  type FinishedListener<T> = (err: Error | null, msg: T) => void;
  /** The same answers as on-finished: `true` once finished, `false` while not, `undefined` for non-messages. */
  function isFinished(msg: unknown): boolean | undefined;
}
/**
 * Calls `listener(err, msg)` once when the request or response has finished, in the async context of
 * this call; attached after the end, it is called on a later turn. Returns `msg`.
 * @example require('on-finished')(res, (err) => log(req, res, err));
 */
declare function onFinished<T extends object>(msg: T, listener: onFinished.FinishedListener<T>): T;
export = onFinished;
