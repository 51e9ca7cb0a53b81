import http from 'node:http';
import net from 'node:net';
import { invalidArgument } from '../invalidArgument.js';
import { MAX_TIMER_MS } from '../timerLimit.js';

/** What a test client does with the response. */
export type ClientBehaviour =
  | { readonly kind: 'read-all' }
  | { readonly kind: 'abort-before-headers' }
  | { readonly kind: 'abort-at'; readonly bytes: number }
  | { readonly kind: 'reset-at'; readonly bytes: number };

const behaviours = new Set(['read-all', 'abort-before-headers', 'abort-at', 'reset-at']);

function checkPort(where: string, port: unknown): void {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    throw invalidArgument(where, 'port', 'a TCP port number (1-65535)', port, 'Pass the port the server listens on: (server.address() as AddressInfo).port.');
  }
}

function checkTimeout(where: string, timeoutMs: unknown): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) {
    throw invalidArgument(where, 'timeoutMs', 'a number of milliseconds > 0', timeoutMs, 'Pass how long a client may wait, e.g. 5_000, or leave it out.');
  }
}

/** One raw HTTP/1.1 request line block; `close` asks the server to close after the response. */
export function rawRequest(path: string, close: boolean, method = 'GET'): string {
  if (typeof path !== 'string' || path === '' || /\s/.test(path)) {
    throw invalidArgument('rawRequest', 'path', 'a request target without spaces, such as "/download"', path, "Pass the path to request: rawRequest('/', true).");
  }
  if (typeof close !== 'boolean') {
    throw invalidArgument('rawRequest', 'close', 'a boolean', close, 'Pass true to ask the server to close the connection after the response, false to keep it alive.');
  }
  if (typeof method !== 'string' || !/^[A-Z]+$/.test(method)) {
    throw invalidArgument('rawRequest', 'method', 'an HTTP method in capitals, such as "GET"', method, "Pass the method, e.g. rawRequest('/', true, 'HEAD'), or leave it out.");
  }
  return `${method} ${path} HTTP/1.1\r\nHost: lifeline.test\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
}

/**
 * Runs one client on a raw socket to 127.0.0.1 so that it can stop at an exact
 * byte or reset the connection. Resolves once the socket has closed; a
 * `read-all` client gives up after `timeoutMs` (a server that never answers).
 */
export function runRawClient(
  port: number,
  payload: string,
  behaviour: ClientBehaviour,
  arrived: Promise<void>,
  timeoutMs = 10_000,
): Promise<void> {
  try {
    checkPort('runRawClient', port);
    if (typeof payload !== 'string') {
      throw invalidArgument('runRawClient', 'payload', 'the request bytes as a string', payload, "Build it with rawRequest('/', true).");
    }
    if (!behaviours.has((behaviour as { kind?: unknown } | null)?.kind as string)) {
      throw invalidArgument('runRawClient', 'behaviour', `an object whose kind is one of ${[...behaviours].join(', ')}`, behaviour, "Pass e.g. { kind: 'read-all' } or { kind: 'abort-at', bytes: 100 }.");
    }
    const b = behaviour as { kind: string; bytes?: unknown };
    if ((b.kind === 'abort-at' || b.kind === 'reset-at') && !(Number.isInteger(b.bytes) && (b.bytes as number) >= 0)) {
      throw invalidArgument('runRawClient', 'behaviour', 'a whole number of bytes >= 0 in behaviour.bytes', b.bytes, `Pass e.g. { kind: '${b.kind}', bytes: 100 }.`);
    }
    if (typeof (arrived as { then?: unknown } | null)?.then !== 'function') {
      throw invalidArgument('runRawClient', 'arrived', 'a promise that resolves when the request reached the handler', arrived, 'Pass Promise.resolve() if the client need not wait.');
    }
    checkTimeout('runRawClient', timeoutMs);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = 0;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    timer.unref();
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.write(payload);
    if (behaviour.kind === 'abort-before-headers') void arrived.then(() => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (behaviour.kind === 'abort-at' && received >= behaviour.bytes) socket.destroy();
      if (behaviour.kind === 'reset-at' && received >= behaviour.bytes) socket.resetAndDestroy();
    });
  });
}

/** A keep-alive session with Node's own client: requests one after the other on one socket, each read in full. */
export async function runKeepAlive(port: number, paths: readonly string[], timeoutMs = 10_000): Promise<void> {
  checkPort('runKeepAlive', port);
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p.startsWith('/'))) {
    throw invalidArgument('runKeepAlive', 'paths', 'an array of paths starting with "/"', paths, "Pass e.g. ['/', '/download'].");
  }
  checkTimeout('runKeepAlive', timeoutMs);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const path of paths) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
          res.resume();
          res.on('end', resolve);
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve());
      });
    }
  } finally {
    agent.destroy();
  }
}
