import http from 'node:http';
import net from 'node:net';

/** What a test client does with the response. */
export type ClientBehaviour =
  | { readonly kind: 'read-all' }
  | { readonly kind: 'abort-before-headers' }
  | { readonly kind: 'abort-at'; readonly bytes: number }
  | { readonly kind: 'reset-at'; readonly bytes: number };

/** One raw HTTP/1.1 request line block; `close` asks the server to close after the response. */
export function rawRequest(path: string, close: boolean, method = 'GET'): string {
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
