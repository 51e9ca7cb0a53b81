/**
 * The wire format of the WebSocket RPC example: JSON text messages. A client
 * sends requests; for each request the server sends any number of progress
 * messages and then exactly one reply (a result or an error), unless the call
 * ends first (the socket closed, the server shut down).
 */

/** A call's id, chosen by the client; echoed on every message about that call. */
export type CallId = string | number;

/** Client → server: start a call. */
export interface RpcRequest {
  readonly id: CallId;
  readonly method: string;
  readonly params?: unknown;
}

/** Server → client, about one call. */
export type RpcResponse =
  | { readonly id: CallId; readonly progress: unknown }
  | { readonly id: CallId; readonly result: unknown }
  | { readonly id: CallId | null; readonly error: { readonly message: string } };

/** Parses one request message, or says in a sentence why it is not one. */
export function parseRequest(text: string): RpcRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the message is not JSON';
  }
  const { id, method } = (value ?? {}) as Partial<RpcRequest>;
  if (typeof id !== 'string' && typeof id !== 'number') return 'a request needs an id (a string or a number)';
  if (typeof method !== 'string') return 'a request needs a method (a string)';
  return value as RpcRequest;
}
