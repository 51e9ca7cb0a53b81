import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createRegistry, toErrorInfo, type ConnectionEvent, type ConnectionId, type Registry } from '@lifeline/core';
import { parseRequest, type CallId, type RpcResponse } from './rpcProtocol.js';

/**
 * What the registry keeps with each connection. A socket and each call on it are
 * connections of their own; a call is a child of its socket's connection.
 */
export type RpcMeta =
  | { readonly kind: 'socket'; readonly url: string; readonly ws: WebSocket }
  | { readonly kind: 'call'; readonly call: CallId; readonly method: string };

/** What a handler gets besides the params. */
export interface RpcCall {
  /** Aborts when the call ends before the handler has answered (socket closed, server shutdown), with a `ConnectionEndedError`. */
  readonly signal: AbortSignal;
  /** Sends one progress message; does nothing once the call has ended. */
  progress(value: unknown): void;
}

/** A method's implementation: its return value is the reply; a throw or rejection is an error reply. */
export type RpcHandler = (params: unknown, call: RpcCall) => unknown;

/** Options of {@link startRpcServer}. */
export interface RpcServerOptions {
  readonly handlers: Readonly<Record<string, RpcHandler>>;
  /** Default: a new registry. */
  readonly registry?: Registry<RpcMeta>;
  /** How long `close()` waits for a client to answer the close handshake before cutting its socket, ms. Default 1,000. */
  readonly closeDeadline?: number;
}

/** A running server. */
export interface RpcServer {
  readonly url: string;
  readonly registry: Registry<RpcMeta>;
  /** Stops accepting, ends every call and socket as `errored` (`shutdown`), closes the sockets (code 1001). */
  close(): Promise<void>;
}

const ABORTED: ConnectionEvent = { type: 'CLOSE', reason: 'aborted' };
const SHUTDOWN: ConnectionEvent = { type: 'ERROR', reason: 'shutdown' };
/** ws reports 1006 for a socket that closed without a close frame: the peer cut it (terminate, crash, lost link). */
const NO_CLOSE_FRAME = 1006;

/**
 * Starts a WebSocket RPC server on 127.0.0.1 (an ephemeral port) whose sockets and
 * calls are connections in a Lifeline registry, each released exactly once. Each call
 * is opened as a child of its socket's connection, so whatever ends the socket ends
 * the calls still in flight on it (the group), as `closed` (`session-closed`):
 *
 * | transport fact | socket's connection | each call in flight on it |
 * | --- | --- | --- |
 * | progress message sent | | `DATA` (`open` → `streaming`) |
 * | reply handed to the socket (`send` callback without error) | | `FINISH` |
 * | handler threw or rejected | | `ERROR` `handler-error` |
 * | close handshake completed (client's close frame, code 1000...) | `FINISH`, `detail.closeCode` | `CLOSE` `session-closed` (group) |
 * | closed without a close frame (client `terminate()`, lost link: 1006) | `CLOSE` `aborted`, `detail.closeCode` 1006 | `CLOSE` `session-closed` (group) |
 * | socket error (the client broke the protocol) | `ERROR` `protocol-error` | `CLOSE` `session-closed` (group) |
 * | `server.close()` | `ERROR` `shutdown` | `ERROR` `shutdown`, ended before their socket |
 *
 * @example
 * ```ts
 * const server = await startRpcServer({ handlers: { add: (p) => (p as number[]).reduce((a, b) => a + b, 0) } });
 * // ... clients connect to server.url ...
 * await server.close();
 * server.registry.size; // 0
 * ```
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { handlers, closeDeadline = 1_000 } = options;
  const registry = options.registry ?? createRegistry<RpcMeta>();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => wss.once('listening', resolve).once('error', reject));

  wss.on('connection', (ws, req) => {
    const socketId = registry.open({ transport: 'websocket', meta: { kind: 'socket', url: req.url ?? '/', ws } });
    ws.on('message', (data, isBinary) => onMessage(ws, socketId, data, isBinary));
    ws.on('error', (error) => registry.dispatch(socketId, { type: 'ERROR', reason: 'protocol-error', error: toErrorInfo(error) }));
    ws.on('close', (closeCode) => {
      if (registry.state(socketId) === undefined) return; // already ended: shut down, or a protocol error
      // Ending the socket's connection ends its calls still in flight (opened with it as parent).
      registry.dispatch(socketId, closeCode === NO_CLOSE_FRAME ? { ...ABORTED, detail: { closeCode } } : { type: 'FINISH', detail: { closeCode } });
    });
  });

  function onMessage(ws: WebSocket, socketId: ConnectionId, data: RawData, isBinary: boolean): void {
    const request = isBinary ? 'a request is a text message' : parseRequest(data.toString());
    if (typeof request === 'string') return reply(ws, { id: null, error: { message: request } });
    const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined;
    if (handler === undefined) return reply(ws, { id: request.id, error: { message: `no method "${request.method}"` } });

    const call = request.id;
    const id = registry.open({ transport: 'websocket', parent: socketId, meta: { kind: 'call', call, method: request.method } });
    const { signal } = registry.handle(id)!;
    let bytesSent = 0;
    const send = (message: RpcResponse, done?: (error?: Error) => void) => {
      const text = JSON.stringify(message);
      bytesSent += Buffer.byteLength(text);
      ws.send(text, done);
    };
    const progress = (value: unknown) => {
      if (registry.state(id) === undefined) return;
      send({ id: call, progress: value });
      registry.dispatch(id, { type: 'DATA', bytesSent });
    };
    new Promise((resolve) => resolve(handler(request.params, { signal, progress }))).then(
      (result) => {
        if (registry.state(id) === undefined) return; // ended while the handler ran; nobody to answer
        // Handed to the socket in full only when ws says so: a socket that dies first ends the call as it says.
        send({ id: call, result }, (error) => {
          if (registry.state(id) !== undefined) registry.dispatch(id, error ? ABORTED : { type: 'FINISH', bytesSent });
        });
      },
      (error: unknown) => {
        if (registry.state(id) === undefined) return; // the handler gave up because the call had ended
        registry.dispatch(id, { type: 'ERROR', reason: 'handler-error', error: toErrorInfo(error) });
        reply(ws, { id: call, error: { message: error instanceof Error ? error.message : String(error) } });
      },
    );
  }

  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    registry,
    async close() {
      const closing = new Promise<void>((resolve) => wss.close(() => resolve()));
      const sockets = registry.list({ meta: (meta) => meta?.kind === 'socket' && wss.clients.has(meta.ws) });
      const closed = sockets.map(({ id, meta }) => {
        const { ws } = meta as Extract<RpcMeta, { kind: 'socket' }>;
        // The server's own choice: its calls end as shut down, not as the socket's group would end them.
        for (const callOnSocket of registry.list({ parent: id })) registry.dispatch(callOnSocket.id, SHUTDOWN);
        registry.dispatch(id, SHUTDOWN);
        const gone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        ws.close(1001, 'server shutdown');
        const cut = setTimeout(() => ws.terminate(), closeDeadline);
        cut.unref();
        return gone.finally(() => clearTimeout(cut));
      });
      await Promise.all([...closed, closing]);
    },
  };
}

function reply(ws: WebSocket, message: RpcResponse): void {
  ws.send(JSON.stringify(message));
}
