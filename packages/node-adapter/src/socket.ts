import type { Duplex } from 'node:stream';
import type { ErrorReason, Registry, Transport } from '@lifeline/core';
import { kApply, kBytesMoved, kConnection, kDetach, kTarget, kTerminate, TrackedConnection, type Connection } from './connection.js';
import { checkRegistry } from './checkRegistry.js';
import { channels } from './diagnostics.js';
import { endingFact, FINISH } from './endingFacts.js';
import { invalidArgument } from './invalidArgument.js';
import { socketBytesMoved } from './transportBytes.js';

type Tagged<T> = T & { [kConnection]?: SocketConnection };

// This module's hooks into its connections: symbol-keyed, so nothing outside the adapter can fake these facts.
const kSocketClosed = Symbol('lifeline.socketClosed');
const kMarkPeerEnded = Symbol('lifeline.markPeerEnded');

function onClose(this: Tagged<Duplex>): void {
  this[kConnection]?.[kSocketClosed]();
}
function onEnd(this: Tagged<Duplex>): void {
  this[kConnection]?.[kMarkPeerEnded]();
}

/**
 * A raw socket taken over by `upgrade` (WebSocket and others) or `CONNECT`,
 * tracked to the socket's `close`: `finished` when our side ended it first and
 * cleanly, `closed` when the peer left first (its FIN came before our end, even
 * if we then end in reply; for a CONNECT tunnel that includes a client's
 * normal half-close), `errored` on a non-peer socket error.
 */
export class SocketConnection<M = unknown> extends TrackedConnection<M> {
  #peerEndedFirst = false;

  constructor(
    id: number,
    registry: Registry<M>,
    transport: Transport,
    readonly socket: Duplex,
  ) {
    super(id, registry, transport);
  }

  /**
   * The peer's FIN came before our side had ended: the peer left first, even if we end in reply (as ws does).
   * `writableEnded` (our end() was called) rather than our `finish`: an end not yet flushed still came first.
   */
  [kMarkPeerEnded](): void {
    if (!this.socket.writableEnded) this.#peerEndedFirst = true;
  }

  [kSocketClosed](): void {
    const error = this.socket.errored;
    // `writableFinished` stays true once our end has flushed, so it also answers for a socket tracked after it closed.
    if (!error && !this.#peerEndedFirst && this.socket.writableFinished) return this[kApply](FINISH);
    this[kApply](endingFact(error, false, 'aborted', 'socket-error'));
  }

  override [kBytesMoved](): number | undefined {
    return socketBytesMoved(this.socket as Parameters<typeof socketBytesMoved>[0]);
  }

  protected [kTerminate](_reason: ErrorReason): void {
    this.socket.destroy();
  }

  protected [kDetach](): void {}

  protected [kTarget](): object {
    return this.socket;
  }
}

/**
 * Tracks a socket handed over by an `upgrade` or `CONNECT` request until it closes.
 *
 * @example
 * ```ts
 * server.on('upgrade', (req, socket) => { trackSocket(socket, { registry, transport: 'websocket' }); ... });
 * ```
 */
export function trackSocket<M>(socket: Duplex, options: { registry: Registry<M>; transport?: Transport; meta?: M }): Connection<M> {
  checkRegistry(options, 'trackSocket');
  const s = socket as Partial<Duplex> | null | undefined;
  if (typeof s?.on !== 'function' || typeof s.destroy !== 'function' || typeof s.end !== 'function') {
    throw invalidArgument('trackSocket', 'socket', 'a socket (a Duplex stream)', socket, "Pass the socket of the server's 'upgrade' or 'connect' event: (req, socket) => trackSocket(socket, { registry }).");
  }
  const tagged = socket as Tagged<Duplex>;
  const existing = tagged[kConnection];
  if (existing !== undefined) return existing as SocketConnection<M>;
  const registry = options.registry;
  const transport = options.transport ?? 'tcp';
  const id = registry.open({ transport, meta: options.meta });
  const connection = new SocketConnection<M>(id, registry, transport, socket);
  tagged[kConnection] = connection as SocketConnection;
  if (channels.open.hasSubscribers) channels.open.publish({ id, transport, registry, target: socket });
  if (socket.closed) connection[kSocketClosed]();
  else {
    socket.on('end', onEnd);
    socket.on('close', onClose);
  }
  return connection;
}
