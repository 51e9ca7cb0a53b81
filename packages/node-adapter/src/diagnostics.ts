import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Channels are created once, here. Publishing checks `hasSubscribers` first,
 * so an unobserved server pays nothing for them.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe('lifeline:release', ({ id, outcome, event }) => metrics.count(outcome));
 * ```
 */
export const channels = {
  /** `{ id, transport, registry, target }` when a connection starts being tracked. */
  open: diagnosticsChannel.channel('lifeline:open'),
  /** `{ id, transport, registry, outcome, event }` when the adapter ends a connection. */
  release: diagnosticsChannel.channel('lifeline:release'),
} as const;
