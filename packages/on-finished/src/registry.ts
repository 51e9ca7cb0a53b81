import { createRegistry } from '@lifeline/core';

/**
 * The registry of responses this package tracks itself: those no
 * `instrument(server)` tracks already (an instrumented server's responses stay
 * in the application's registry, and the drop-in listens to the same handle).
 * No journal: nothing here is ever inspected after release.
 */
export const registry = createRegistry({ journalSize: 0 });

/**
 * Responses the drop-in is tracking in its own registry right now; 0 once
 * every one has ended. A health check or test can watch it for leaks.
 *
 * @example
 * ```js
 * import { inFlight } from '@lifeline/on-finished';
 * setInterval(() => metrics.gauge('onfinished.in_flight', inFlight()), 10_000);
 * ```
 */
export function inFlight(): number {
  return registry.size;
}
