import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createRegistry, toErrorInfo, type ConnectionEvent, type ConnectionId, type Registry } from '@lifeline/core';
import { parseRequest, type CallId, type RpcResponse } from './rpcProtocol.js';

/**
 * What the registry keeps with each connection. A socket and each call on it are
 * connections of their own; a call carries the controller behind its handler's
 * signal, so everything a call holds is freed with its registry entry.
 */
export type RpcMeta =
  | { readonly kind: 'socket'; readonly socket: number; readonly url: string }
  | { readonly kind: 'call'; readonly socket: number; readonly call: CallId; readonly method: string; readonly controller: AbortController };

/** What a handler gets besides the params. */
export interface RpcCall {
  /** Aborts when the call ends before the handler has answered (socket closed, server shutdown). */
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

const FINISH: ConnectionEvent = { type: 'FINISH' };
const ABORTED: ConnectionEvent = { type: 'CLOSE', reason: 'aborted' };
const SHUTDOWN: ConnectionEvent = { type: 'ERROR', reason: 'shutdown' };
/** ws reports 1006 for a socket that closed without a close frame: the peer cut it (terminate, crash, lost link). */
const NO_CLOSE_FRAME = 1006;

/**
 * Starts a WebSocket RPC server on 127.0.0.1 (an ephemeral port) whose sockets and
 * calls are connections in a Lifeline registry, each released exactly once:
 *
 * | transport fact | socket's connection | each call still in flight on it |
 * | --- | --- | --- |
 * | progress message sent | | `DATA` (`open` → `streaming`) |
 * | reply handed to the socket (`send` callback without error) | | `FINISH` |
 * | handler threw or rejected | | `ERROR` `handler-error` |
 * | close handshake completed (client's close frame, code 1000...) | `FINISH` | `CLOSE` `session-closed`, `code` the close code |
 * | closed without a close frame (client `terminate()`, lost link: 1006) | `CLOSE` `aborted` | `CLOSE` `aborted` |
 * | socket error (the client broke the protocol) | `ERROR` `protocol-error` | `ERROR` `protocol-error` |
 * | `server.close()` | `ERROR` `shutdown` | `ERROR` `shutdown` |
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
  // The one listener that frees a call's resources: it runs once per call, however the call ended.
  const stopAborting = registry.onRelease((released) => {
    if (released.meta?.kind === 'call') released.meta.controller.abort(released.event);
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => wss.once('listening', resolve).once('error', reject));
  let sockets = 0;

  /** Ends every call of one socket still in flight. The registry is the only place calls are kept. */
  const endCallsOf = (socket: number, event: ConnectionEvent) => {
    for (const info of registry.list({ transport: 'websocket' })) {
      if (info.meta?.kind === 'call' && info.meta.socket === socket) registry.dispatch(info.id, event);
    }
  };

  wss.on('connection', (ws, req) => {
    const socket = ++sockets;
    const socketId = registry.open({ transport: 'websocket', meta: { kind: 'socket', socket, url: req.url ?? '/' } });
    ws.on('message', (data, isBinary) => onMessage(ws, socket, data, isBinary));
    ws.on('error', (error) => {
      const event: ConnectionEvent = { type: 'ERROR', reason: 'protocol-error', error: toErrorInfo(error) };
      endCallsOf(socket, event);
      registry.dispatch(socketId, event);
    });
    ws.on('close', (code) => {
      if (registry.state(socketId) === undefined) return; // already ended (shutdown, error)
      endCallsOf(socket, code === NO_CLOSE_FRAME ? ABORTED : { type: 'CLOSE', reason: 'session-closed', code: String(code) });
      registry.dispatch(socketId, code === NO_CLOSE_FRAME ? ABORTED : FINISH);
    });
    shutdownOf.set(ws, () => {
      endCallsOf(socket, SHUTDOWN);
      registry.dispatch(socketId, SHUTDOWN);
    });
  });

  function onMessage(ws: WebSocket, socket: number, data: RawData, isBinary: boolean): void {
    const request = isBinary ? 'a request is a text message' : parseRequest(data.toString());
    if (typeof request === 'string') return reply(ws, { id: null, error: { message: request } });
    const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined;
    if (handler === undefined) return reply(ws, { id: request.id, error: { message: `no method "${request.method}"` } });

    const controller = new AbortController();
    const call = request.id;
    const id = registry.open({ transport: 'websocket', meta: { kind: 'call', socket, call, method: request.method, controller } });
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
    new Promise((resolve) => resolve(handler(request.params, { signal: controller.signal, progress }))).then(
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

  const shutdownOf = new WeakMap<WebSocket, () => void>();

  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    registry,
    async close() {
      const closing = new Promise<void>((resolve) => wss.close(() => resolve()));
      const closed = [...wss.clients].map((ws) => {
        shutdownOf.get(ws)?.();
        const gone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        ws.close(1001, 'server shutdown');
        const cut = setTimeout(() => ws.terminate(), closeDeadline);
        cut.unref();
        return gone.finally(() => clearTimeout(cut));
      });
      await Promise.all([...closed, closing]);
      stopAborting();
    },
  };
}

function reply(ws: WebSocket, message: RpcResponse): void {
  ws.send(JSON.stringify(message));
}
