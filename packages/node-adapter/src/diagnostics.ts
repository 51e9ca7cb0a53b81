import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingHttpHeaders } from 'node:http2';
import type { ConnectionEvent, ConnectionId, ConnectionOutcome, Registry, Transport } from '@lifeline/core';
import { invalidArgument } from './invalidArgument.js';

/**
 * What `lifeline:connection:open` carries when the adapter starts tracking a
 * connection. `target` is the object it was tracked on: the HTTP/1
 * `ServerResponse`, the HTTP/2 stream, or the taken-over socket.
 */
export interface ConnectionOpenMessage {
  readonly id: ConnectionId;
  readonly transport: Transport;
  readonly registry: Registry<unknown>;
  readonly target: object;
  /**
   * The request's headers, for an HTTP/2 stream tracked by `instrument`: the
   * stream keeps no public copy, and metrics need its `:method` and `:scheme`.
   * For HTTP/1 read them from the response's `req`.
   */
  readonly headers?: IncomingHttpHeaders;
}

/**
 * What `lifeline:connection:release` carries, once per connection the open
 * channel announced, when the adapter sees it end. `target` is the open
 * message's, so a subscriber can key its own state by it (a `WeakMap`) and
 * needs no id map to free. `outcome` is `undefined` for a connection that was
 * released on the registry directly (`registry.dispatch` of a terminal fact)
 * rather than by a transport fact: the adapter learns of it at the next fact
 * it feeds, and `event` is that fact.
 */
export interface ConnectionReleaseMessage {
  readonly id: ConnectionId;
  readonly transport: Transport;
  readonly registry: Registry<unknown>;
  readonly target: object;
  readonly outcome: ConnectionOutcome | undefined;
  /** The terminal fact the adapter fed (or the fact that found the connection released already). */
  readonly event: ConnectionEvent;
}

/** The channels' names, in the `package:object:event` form undici uses. */
export const channelNames = {
  open: 'lifeline:connection:open',
  release: 'lifeline:connection:release',
} as const;

/**
 * Created once, here. Publishing checks `hasSubscribers` first, so an
 * unobserved server pays nothing for them.
 */
export const channels = {
  open: diagnosticsChannel.channel(channelNames.open),
  release: diagnosticsChannel.channel(channelNames.release),
} as const;

/**
 * Calls `listener` with every `lifeline:connection:open` message, from every
 * instrumented server and `track` call in the process. Returns the function
 * that unsubscribes it. The same as `diagnostics_channel.subscribe` on the
 * channel's name, with the message typed.
 *
 * @example
 * ```ts
 * const unsubscribe = subscribeOpen(({ id, transport }) => metrics.gauge('open', 1, { transport }));
 * ```
 */
export function subscribeOpen(listener: (message: ConnectionOpenMessage) => void): () => void {
  return subscribe('subscribeOpen', channelNames.open, listener);
}

/**
 * Calls `listener` with every `lifeline:connection:release` message: once for
 * each connection the open channel announced. Returns the function that
 * unsubscribes it.
 *
 * @example
 * ```ts
 * const unsubscribe = subscribeRelease(({ outcome, target }) => {
 *   metrics.count(outcome ?? 'released-on-registry');
 *   spans.get(target)?.end(); // a WeakMap keyed by the open message's target
 * });
 * ```
 */
export function subscribeRelease(listener: (message: ConnectionReleaseMessage) => void): () => void {
  return subscribe('subscribeRelease', channelNames.release, listener);
}

function subscribe<T>(where: string, name: string, listener: (message: T) => void): () => void {
  if (typeof listener !== 'function') {
    throw invalidArgument(where, 'listener', 'a function (message) => void', listener, `Pass a callback: ${where}((message) => ...).`);
  }
  const onMessage = listener as (message: unknown) => void;
  diagnosticsChannel.subscribe(name, onMessage);
  return () => {
    diagnosticsChannel.unsubscribe(name, onMessage);
  };
}
