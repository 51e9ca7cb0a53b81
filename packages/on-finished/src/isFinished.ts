import type { Socket } from 'node:net';
import { hasEnded, type Watched } from './listeners.js';

interface MessageLike extends Watched {
  socket?: Socket | null;
  writableEnded?: unknown;
  finished?: unknown;
  complete?: unknown;
  readable?: unknown;
  upgrade?: unknown;
  stream?: { closed?: boolean; destroyed?: boolean };
}

/**
 * Whether `msg` has finished: a response that ended or whose socket can no
 * longer be written, a request fully read or whose socket is gone (upgrade
 * and CONNECT requests count as finished at once). `undefined` for anything
 * that is not a message. Same answers as on-finished's `isFinished`, plus
 * `true` for messages whose end only Lifeline saw (a pipelined response still
 * queued when its socket died; a closed HTTP/2 stream).
 *
 * @example
 * ```js
 * if (onFinished.isFinished(req)) return write(); // finalhandler: nothing left to read
 * ```
 */
export function isFinished(msg: unknown): boolean | undefined {
  const m = msg as MessageLike;
  // Reading a property of null or undefined throws the TypeError on-finished throws.
  if (hasEnded(m)) return true;
  // HTTP/2 compat messages are judged by their stream: their `socket` is a proxy that throws once the session let go of it.
  const stream = m.stream;
  const ended = typeof m.writableEnded === 'boolean' ? m.writableEnded : m.finished;
  if (typeof ended === 'boolean') {
    if (ended) return true;
    if (stream !== undefined) return Boolean(stream.closed || stream.destroyed);
    const socket = m.socket;
    return Boolean(socket && !socket.writable);
  }
  if (typeof m.complete === 'boolean') {
    if (stream !== undefined) return Boolean(stream.closed || stream.destroyed || (m.complete && !m.readable));
    const socket = m.socket;
    return Boolean(m.upgrade || !socket || !socket.readable || (m.complete && !m.readable));
  }
  return undefined;
}
