import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ConnectionEvent, ConnectionOutcome } from '@lifeline/core';
import { track } from '@lifeline/node-adapter';
import { settle, type Watched } from './listeners.js';
import { registry } from './registry.js';

type ServerSideResponse = (ServerResponse | Http2ServerResponse) & Watched;

/**
 * A response of a node:http / https server or the HTTP/2 compat API: one that
 * knows its request, so the adapter can track the pair.
 */
export function isServerResponse(res: object): res is ServerSideResponse {
  const req = (res as { req?: { socket?: unknown; stream?: unknown } }).req;
  return typeof req === 'object' && req !== null && (req.stream != null || req.socket != null);
}

/**
 * Ends `res`'s listeners when the adapter sees the connection end: `finish`,
 * `close`, an HTTP/2 stream's close, and the case on-finished never sees, a
 * pipelined response still queued when its socket died. A response an
 * instrumented server already tracks keeps its handle in the application's
 * registry; this only adds an end listener to it.
 */
export function watchResponse(res: ServerSideResponse): void {
  const req = res.req as IncomingMessage | Http2ServerRequest;
  const connection = track(req, res, { registry });
  connection.onEnd((_outcome: ConnectionOutcome | undefined, event: ConnectionEvent) => settle(res, errorOf(req, res, event)));
}

/**
 * on-finished's `err` is the error the socket emitted before the message
 * ended, and `null` for any other end: a finish, a peer that left, a timeout.
 */
function errorOf(req: IncomingMessage | Http2ServerRequest, res: ServerSideResponse, event: ConnectionEvent): Error | null {
  if (event.type === 'FINISH') return null;
  const stream = (req as Http2ServerRequest).stream;
  if (stream !== undefined) return stream.errored ?? null;
  return (req as IncomingMessage).socket?.errored ?? (res as ServerResponse).errored ?? null;
}
