import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { settle, type Watched } from './listeners.js';

/** The requests of a socket waiting to be fully read; the socket listens while there is one. */
const kWaiting = Symbol('lifeline.onFinished.waitingRequests');
/** The compat request of an HTTP/2 stream, for the stream's shared `close` listener. */
const kRequest = Symbol('lifeline.onFinished.request');

type WatchedSocket = Socket & { [kWaiting]?: Set<IncomingMessage & Watched> };
type WatchedStream = ServerHttp2Stream & { [kRequest]?: Http2ServerRequest & Watched };

/**
 * Ends the listeners of a request when it has been read in full (`end`), or
 * when its socket fails or closes first (with the socket's error, as
 * on-finished gives it). The socket's two listeners are shared by all its
 * waiting requests and removed when none is left, so a keep-alive socket
 * never accumulates listeners.
 */
export function watchRequest(req: (IncomingMessage | Http2ServerRequest) & Watched): void {
  const stream = (req as Http2ServerRequest).stream as WatchedStream | undefined;
  if (stream !== undefined) return watchHttp2Request(req as Http2ServerRequest & Watched, stream);
  const socket = req.socket as WatchedSocket;
  let waiting = socket[kWaiting];
  if (waiting === undefined) {
    waiting = new Set();
    socket[kWaiting] = waiting;
  }
  if (waiting.size === 0) {
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }
  waiting.add(req as IncomingMessage & Watched);
  req.on('end', onRequestEnd);
}

function onRequestEnd(this: IncomingMessage & Watched): void {
  this.removeListener('end', onRequestEnd);
  const socket = this.socket as WatchedSocket | null;
  const waiting = socket?.[kWaiting];
  if (waiting !== undefined && waiting.delete(this) && waiting.size === 0) stopWatching(socket!);
  settle(this, null);
}

function onSocketError(this: WatchedSocket, err: Error): void {
  endAll(this, err);
}

function onSocketClose(this: WatchedSocket): void {
  endAll(this, null);
}

function endAll(socket: WatchedSocket, err: Error | null): void {
  const waiting = socket[kWaiting];
  stopWatching(socket);
  if (waiting === undefined) return;
  const requests = [...waiting];
  waiting.clear();
  for (const req of requests) {
    req.removeListener('end', onRequestEnd);
    settle(req, err);
  }
}

function stopWatching(socket: WatchedSocket): void {
  socket.removeListener('error', onSocketError);
  socket.removeListener('close', onSocketClose);
}

function watchHttp2Request(req: Http2ServerRequest & Watched, stream: WatchedStream): void {
  stream[kRequest] = req;
  req.once('end', onHttp2RequestEnd);
  stream.once('close', onHttp2StreamClose);
}

function onHttp2RequestEnd(this: Http2ServerRequest & Watched): void {
  (this.stream as WatchedStream).removeListener('close', onHttp2StreamClose);
  settle(this, null);
}

function onHttp2StreamClose(this: WatchedStream): void {
  const req = this[kRequest];
  if (req === undefined) return;
  req.removeListener('end', onHttp2RequestEnd);
  settle(req, this.errored ?? null);
}
