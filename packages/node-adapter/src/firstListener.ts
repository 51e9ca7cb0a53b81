import type { EventEmitter } from 'node:events';

type Listener = (this: unknown, a: unknown, b: unknown, c: unknown, d: unknown) => unknown;

/**
 * The wrapper that runs `track` and then the listener it stands in for; `listener` as Node's `once` wrappers have it.
 * A plain `function` with `listener` assigned and nothing else: Node itself makes listeners of that hidden class, so
 * the call sites in Node's `emit` and `on` that meet every listener (`handler.apply`, `listener.listener`) see no new
 * kind of function. They are polymorphic up to four kinds, and a fifth (a `listener` defined read-only, or one more
 * property) turned them megamorphic in every function `emit` is inlined in: about 900 instructions per HTTP/2 stream
 * (Node 24, measured under callgrind).
 */
interface Fused extends Listener {
  listener: Listener;
}

/**
 * Runs `track` first on every `event` of `emitter`, before the listeners
 * that were there when it was called and those added later with `on`, until
 * the returned function is called.
 *
 * Node's `emit` calls a single listener directly but walks a copied array when
 * there are two, so a listener of ours next to the application's makes every
 * emit dearer (about 800 instructions per HTTP/2 stream, a third of the
 * adapter's cost there). So where it can, it adds no listener of its own: the
 * first listener of the event is replaced by a wrapper that calls `track`
 * and then that listener, the way `once` wraps one. `listeners(event)`,
 * `listenerCount` and `removeListener(event, listener)` see the application's
 * listener as before; `rawListeners(event)` shows the wrapper.
 *
 * Otherwise (no listener, or the first is itself a wrapper such as `once`'s,
 * or is added twice) `track` runs from a listener of its own, prepended;
 * the next emit after the listeners change tries the replacement again. The
 * replacement removes and re-adds through the emitter's own methods, so other
 * 'removeListener' and 'newListener' listeners see it. Removing the
 * application's listener removes the wrapper, and the own listener comes back
 * first, in a microtask (before any I/O can emit); so does `removeAllListeners(event)`.
 *
 * The returned function stops it: the own listener is removed, and a wrapper
 * still first is swapped back for its listener (one that another listener was
 * prepended before is left in place, calling its listener only, so that the
 * order is kept).
 */
export function runFirst(emitter: EventEmitter, event: 'request' | 'stream', track: (a: never, b: never) => void): () => void {
  let fused: Fused | undefined;
  /** Whether the listeners are as the last fusing attempt left them (then the own listener does not look again). */
  let settled = false;
  /** Set while this function changes the listeners itself, so that its own hooks ignore the events. */
  let busy = false;
  let attached = true;
  const run = track as (a: unknown, b: unknown) => void;

  const own = function (this: unknown, a: unknown, b: unknown): void {
    run(a, b);
    if (!settled) fuse();
  };

  const change = (apply: () => void) => {
    busy = true;
    try {
      apply();
    } finally {
      busy = false;
    }
  };

  const fuse = () => {
    settled = true;
    const raw = emitter.rawListeners(event) as Listener[];
    if (raw[0] !== own || raw.length < 2) return;
    const first = raw[1]!;
    // A wrapper (once's, or another copy's) is left alone, and so is a listener added twice: removing it
    // by reference would take the last of its copies, not this one.
    if (typeof (first as Partial<Fused>).listener === 'function' || raw.filter((l) => l === first || (l as Partial<Fused>).listener === first).length !== 1) return;
    // The listener gets what Node emits, no more: (req, res) on 'request', four arguments on 'stream'.
    // Tracks while it is the wrapper in use: `fused` is cleared when it leaves the emitter or the tracking is detached.
    const wrapper = (
      event === 'request'
        ? function (this: unknown, a: unknown, b: unknown): unknown {
            if (fused === wrapper) run(a, b);
            return (first as (this: unknown, a: unknown, b: unknown) => unknown).call(this, a, b);
          }
        : function (this: unknown, a: unknown, b: unknown, c: unknown, d: unknown): unknown {
            if (fused === wrapper) run(a, b);
            return first.call(this, a, b, c, d);
          }
    ) as Fused;
    wrapper.listener = first;
    change(() => {
      emitter.removeListener(event, own);
      emitter.removeListener(event, first);
      emitter.prependListener(event, wrapper);
    });
    fused = wrapper;
  };

  let restoring = false;
  /** After a removal: a wrapper that left stops tracking, and the own listener comes back first if nothing tracks. */
  const restore = () => {
    restoring = false;
    if (!attached) return;
    const raw = emitter.rawListeners(event);
    if (fused !== undefined && !raw.includes(fused)) fused = undefined;
    if (fused === undefined && !raw.includes(own)) change(() => emitter.prependListener(event, own));
    settled = false;
  };

  const onNewListener = (name: string | symbol) => {
    if (!busy && name === event) settled = false;
  };
  // Put back in a microtask, not at once: `removeAllListeners(event)` walks the emitter's own array while it
  // removes, and a listener prepended into that array meanwhile would shift a listener out of its walk.
  // Events come from I/O, after the microtasks of the code that removed.
  const onRemoveListener = (name: string | symbol) => {
    if (busy || name !== event) return;
    settled = false;
    if (restoring) return;
    restoring = true;
    queueMicrotask(restore);
  };

  change(() => emitter.prependListener(event, own));
  emitter.on('newListener', onNewListener);
  emitter.on('removeListener', onRemoveListener);

  return () => {
    if (!attached) return;
    attached = false;
    emitter.removeListener('newListener', onNewListener);
    emitter.removeListener('removeListener', onRemoveListener);
    emitter.removeListener(event, own);
    const wrapper = fused;
    fused = undefined;
    if (wrapper === undefined) return;
    if (emitter.rawListeners(event)[0] === wrapper) {
      emitter.removeListener(event, wrapper);
      emitter.prependListener(event, wrapper.listener);
    }
  };
}
