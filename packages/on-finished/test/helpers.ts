import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Running {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/** An HTTP/1 server on 127.0.0.1; `close` also cuts whatever sockets a test left open. */
export async function listen(handler?: http.RequestListener): Promise<Running> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes a keep-alive GET, optionally with a chunked body still to come. */
export function writeRequest(socket: net.Socket, chunked = false, path = '/'): void {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n${chunked ? 'Transfer-Encoding: chunked\r\n' : ''}\r\n`);
}

/** A GET whose response is read in full. */
export function get(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** A GET the client aborts once the server has the request. */
export function getThenAbort(port: number): { abort(): void } {
  const req = http.get({ host: '127.0.0.1', port, agent: false });
  req.on('error', () => {});
  return { abort: () => req.destroy() };
}

/** A promise with its resolver, for facts that arrive in callbacks and are asserted after. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when `condition()` holds, polling; rejects after `timeout` ms with `what`. */
export async function until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Stderr written while `fn` runs synchronously. */
export function captureStderr(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join('');
}
