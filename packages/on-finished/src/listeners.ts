/** The callback on-finished users pass: `err` is the socket's error, or `null` on a normal end. */
export type FinishedListener<T> = (err: Error | null, msg: T) => void;

type AnyListener = FinishedListener<never>;

/**
 * Where a message keeps its pending listeners: one function for the common
 * single listener, an array once there are more, `ENDED` once they have run.
 */
export const kListeners = Symbol.for('lifeline.onFinished.listeners');

/** Marks a message whose listeners have run: it has ended, whatever Node's own flags say. */
export const ENDED = 0;

export type Pending = AnyListener | AnyListener[] | typeof ENDED | undefined;
export type Watched = object & { [kListeners]?: Pending };

/** Adds `listener` to `msg`'s queue; true when it is the first, so the caller starts watching. */
export function enqueue(msg: Watched, listener: AnyListener): boolean {
  const pending = msg[kListeners];
  if (pending === undefined || pending === ENDED) {
    msg[kListeners] = listener;
    return true;
  }
  if (typeof pending === 'function') msg[kListeners] = [pending, listener];
  else pending.push(listener);
  return false;
}

/** True once `msg`'s listeners have run. */
export function hasEnded(msg: Watched): boolean {
  return msg[kListeners] === ENDED;
}

/**
 * Runs `msg`'s pending listeners once, in the order they were added. A
 * listener that throws does not stop the others; its error is rethrown on a
 * microtask so it stays an uncaught exception, as it is with on-finished,
 * instead of vanishing inside whatever event delivered the end.
 */
export function settle(msg: Watched, err: Error | null): void {
  const pending = msg[kListeners];
  if (pending === undefined || pending === ENDED) return;
  msg[kListeners] = ENDED;
  if (typeof pending === 'function') return call(pending, err, msg);
  for (const listener of pending) call(listener, err, msg);
}

function call(listener: AnyListener, err: Error | null, msg: unknown): void {
  try {
    (listener as FinishedListener<unknown>)(err, msg);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
