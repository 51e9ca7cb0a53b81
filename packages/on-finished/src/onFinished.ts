import type { EventEmitter } from 'node:events';
import { isFinished } from './isFinished.js';
import { enqueue, type FinishedListener, type Watched } from './listeners.js';
import { watchOther } from './watchOther.js';
import { watchRequest } from './watchRequest.js';
import { isServerResponse, watchResponse } from './watchResponse.js';

function isOutgoing(msg: object): boolean {
  const m = msg as { writableEnded?: unknown; finished?: unknown };
  return typeof (typeof m.writableEnded === 'boolean' ? m.writableEnded : m.finished) === 'boolean';
}

/**
 * Calls `listener(err, msg)` exactly once when `msg` has ended: a response
 * that finished, or whose client left or whose socket failed; a request read
 * in full, or whose socket failed or closed first. `err` is the socket's error
 * when it failed, else `null`. If `msg` has already ended, the listener is
 * still called, asynchronously. It runs in the async context (AsyncLocalStorage)
 * where `onFinished` was called. Returns `msg`.
 *
 * Same contract as the `on-finished` package, and also ends what on-finished
 * never does: pipelined responses still queued when their socket dies, and
 * HTTP/2 compat requests and responses (cancelled streams included).
 *
 * @example
 * ```js
 * const onFinished = require('on-finished'); // overridden to @lifeline/on-finished
 * onFinished(res, (err, res) => {
 *   stream.destroy(); // runs for every response, once
 * });
 * ```
 */
function onFinished<T extends object>(msg: T, listener: FinishedListener<T>): T {
  if (isFinished(msg) !== false) {
    setImmediate(listener, null, msg);
    return msg;
  }
  if (enqueue(msg as Watched, listener as FinishedListener<never>)) {
    if (isOutgoing(msg)) {
      if (isServerResponse(msg)) watchResponse(msg);
      else watchOther(msg as unknown as EventEmitter);
    } else if ((msg as { stream?: unknown }).stream != null || (msg as { socket?: unknown }).socket != null) {
      watchRequest(msg as never);
    } else {
      watchOther(msg as unknown as EventEmitter);
    }
  }
  return msg;
}

onFinished.isFinished = isFinished;

export { onFinished };
