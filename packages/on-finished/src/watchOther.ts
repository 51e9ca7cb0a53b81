import type { EventEmitter } from 'node:events';
import { settle, type Watched } from './listeners.js';

type Emitter = EventEmitter & Watched & { socket?: { errored?: Error | null } | null };

/**
 * Messages that are neither a server's request nor its response (an
 * outgoing `ClientRequest`, a hand-made stream): ended by their own `finish`,
 * `end` or `close`. No `error` listener: adding one would swallow errors the
 * application must see.
 */
export function watchOther(msg: Emitter): void {
  msg.on('finish', onDone);
  msg.on('end', onDone);
  msg.on('close', onClose);
}

function onDone(this: Emitter): void {
  stop(this);
  settle(this, null);
}

function onClose(this: Emitter): void {
  stop(this);
  settle(this, this.socket?.errored ?? null);
}

function stop(msg: Emitter): void {
  msg.removeListener('finish', onDone);
  msg.removeListener('end', onDone);
  msg.removeListener('close', onClose);
}
