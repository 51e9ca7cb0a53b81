import { WebSocket } from 'ws';
import type { CallId, RpcResponse } from './rpcProtocol.js';

/** The server answered a call with an error. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
}

/** One pending call, as the client sees it. */
export interface PendingCall {
  /** Resolves with the result; rejects with an {@link RpcError}, or when the socket closes first. */
  readonly result: Promise<unknown>;
  /** Resolves at the call's first progress message; rejects if the call ends or the socket closes first. */
  readonly firstProgress: Promise<void>;
}

/** A client of the WebSocket RPC example. */
export interface RpcClient {
  call(method: string, params?: unknown): PendingCall;
  /** A clean close: sends a close frame with `code` and waits for the socket to close. */
  close(code?: number): Promise<void>;
  /** Cuts the socket without a close frame (what a crashed client or a lost link looks like to the server). */
  terminate(): Promise<void>;
  /** Resolves with the close code once the socket has closed, however. */
  readonly closed: Promise<number>;
}

/**
 * Connects to `url` (`ws://127.0.0.1:port/anything`). Call ids are `prefix` plus a counter.
 *
 * @example
 * ```ts
 * const client = await connectRpcClient(server.url);
 * console.log(await client.call('add', [1, 2]).result); // 3
 * await client.close();
 * ```
 */
export async function connectRpcClient(url: string, prefix = ''): Promise<RpcClient> {
  const ws = new WebSocket(url);
  const pending = new Map<CallId, { resolve(value: unknown): void; reject(error: Error): void; progressed(error?: Error): void }>();
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  ws.on('error', () => {}); // surfaces as 'close' (code 1006), which rejects what is pending
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as RpcResponse;
    const call = message.id === null ? undefined : pending.get(message.id);
    if (call === undefined) return;
    if ('progress' in message) return call.progressed();
    pending.delete(message.id!);
    call.progressed(new Error('the call ended without progress'));
    if ('result' in message) call.resolve(message.result);
    else call.reject(new RpcError(message.error.message));
  });
  void closed.then((code) => {
    for (const call of pending.values()) {
      const error = new Error(`socket closed (${code}) before the reply`);
      call.progressed(error);
      call.reject(error);
    }
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('close', () => reject(new Error(`could not connect to ${url}`))));
  let next = 0;
  return {
    call(method, params) {
      const id = `${prefix}${++next}`;
      let progressed!: (error?: Error) => void;
      const firstProgress = new Promise<void>((resolve, reject) => (progressed = (error) => (error ? reject(error) : resolve())));
      const result = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject, progressed }));
      // A caller may wait for only one of the two: the other must not become an unhandled rejection.
      result.catch(() => {});
      firstProgress.catch(() => {});
      ws.send(JSON.stringify({ id, method, params }));
      return { result, firstProgress };
    },
    async close(code = 1000) {
      ws.close(code);
      await closed;
    },
    async terminate() {
      ws.terminate();
      await closed;
    },
    closed,
  };
}
