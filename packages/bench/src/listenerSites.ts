/**
 * Node's EventEmitter code is shared by every emitter of a process, and the
 * property reads in it that meet every listener (`handler.apply` in `emit`,
 * `listener.listener` in `on`) are inline caches: fast while they have seen at
 * most four kinds (hidden classes) of listener function, megamorphic (a slower,
 * shared lookup) from the fifth on, for good. An application's listeners come
 * in many kinds (arrow functions, methods, bound functions, `once` wrappers,
 * async functions), so in a real server those reads are megamorphic before the
 * first request. In a one-route bench server they sit at the edge, and
 * whichever mode brings a fifth kind (its own listener at startup, a wrapper)
 * tips them and is charged for it on every request (measured under callgrind,
 * Node 24: 900 to 1,300 instructions per HTTP/2 stream).
 *
 * `warmListenerSites()` meets those reads with seven kinds of listener, on a
 * plain EventEmitter and on a stream, before the server is made: every mode,
 * bare included, then runs with them as an application has them.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

export function warmListenerSites(): void {
  const withListener = Object.assign(function () {}, { listener: () => {} });
  const kinds: ((...args: unknown[]) => unknown)[] = [
    () => {},
    function () {},
    function () {}.bind(null),
    async () => {},
    { method() {} }.method,
    class {
      static method() {}
    }.method,
    withListener,
  ];
  for (let round = 0; round < 3; round++) {
    for (const listener of kinds) {
      for (const emitter of [new EventEmitter(), new PassThrough()]) {
        emitter.on('newListener', () => {});
        emitter.on('removeListener', () => {});
        emitter.on('one', listener);
        emitter.emit('one', 1, 2);
        emitter.once('once', listener);
        emitter.emit('once', 1, 2);
        emitter.prependListener('two', listener);
        emitter.on('two', listener);
        emitter.emit('two', 1, 2);
        emitter.removeListener('one', listener);
        emitter.removeAllListeners('two');
      }
    }
  }
}
