import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createRegistry, type Registry, type ReleasedConnection } from '@lifeline/core';
import { instrument, type InstrumentOptions, type Instrumentation } from '../../src/index.js';

export interface TestServer<S> {
  server: S;
  port: number;
  registry: Registry;
  instrumentation: Instrumentation<unknown>;
  releases: ReleasedConnection[];
  close(): Promise<void>;
}

function collect(registry: Registry): ReleasedConnection[] {
  const releases: ReleasedConnection[] = [];
  registry.onRelease((c) => releases.push(c));
  return releases;
}

/** The test certificate, for 127.0.0.1. */
export const tls = {
  key: readFileSync(new URL('./tls-key.pem', import.meta.url)),
  cert: readFileSync(new URL('./tls-cert.pem', import.meta.url)),
};

/** Options of `instrument` besides the registry, which the test server makes. */
type InstrumentExtras = Omit<InstrumentOptions<unknown>, 'registry'>;

/**
 * Instruments `server` with a fresh registry (journal 16) that records every
 * release, and listens on 127.0.0.1, port 0. The adapter prepends its
 * listeners, so handlers may be attached before this.
 */
async function listenInstrumented<S extends http.Server | http2.Http2Server | http2.Http2SecureServer>(
  server: S,
  closeConnections: () => void,
  extras: InstrumentExtras = {},
): Promise<TestServer<S>> {
  const registry = createRegistry({ journalSize: 16 });
  const releases = collect(registry);
  const instrumentation = instrument(server, { registry, ...extras });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    registry,
    instrumentation,
    releases,
    close: () =>
      new Promise<void>((resolve) => {
        closeConnections();
        server.close(() => resolve());
      }),
  };
}

/** An instrumented node:http server on 127.0.0.1, port 0. */
export function startHttp1(handler: http.RequestListener, options: http.ServerOptions = {}): Promise<TestServer<http.Server>> {
  const server = http.createServer(options);
  server.on('request', handler);
  return listenInstrumented(server, () => server.closeAllConnections());
}

interface Http2Handlers {
  stream?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
  request?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
}

function listenHttp2<S extends http2.Http2Server | http2.Http2SecureServer>(server: S, handlers: Http2Handlers, extras: InstrumentExtras): Promise<TestServer<S>> {
  if (handlers.stream) server.on('stream', handlers.stream);
  if (handlers.request) server.on('request', handlers.request);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return listenInstrumented(
    server,
    () => {
      for (const s of sessions) s.destroy();
    },
    extras,
  );
}

/**
 * An instrumented node:http2 cleartext server on 127.0.0.1, port 0. `options` go to `http2.createServer`, which
 * hands them to its `net.Server` too (`allowHalfOpen`).
 */
export function startHttp2(
  handlers: Http2Handlers,
  extras: InstrumentExtras = {},
  options: http2.ServerOptions & { allowHalfOpen?: boolean } = {},
): Promise<TestServer<http2.Http2Server>> {
  return listenHttp2(http2.createServer(options), handlers, extras);
}

/**
 * An instrumented node:http2 secure server with the test certificate, on 127.0.0.1, port 0; HTTP/1.1
 * connections it accepts with `allowHTTP1` are closed with it too.
 */
export function startSecureHttp2(
  options: http2.SecureServerOptions,
  handlers: Http2Handlers,
  extras: InstrumentExtras = {},
): Promise<TestServer<http2.Http2SecureServer>> {
  const server = http2.createSecureServer({ ...tls, ...options });
  const sockets = new Set<net.Socket>();
  server.on('secureConnection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return listenHttp2(server, handlers, extras).then((t) => ({
    ...t,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return t.close();
    },
  }));
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until the registry has released `count` connections in all. */
export function waitForReleases(t: { releases: ReleasedConnection[] }, count: number, timeoutMs = 5_000): Promise<void> {
  return waitFor(() => t.releases.length >= count, `${count} release(s), got ${t.releases.length}`, timeoutMs);
}

/** A raw TCP client: write bytes, read what comes back, close or reset whenever. */
export function rawClient(port: number): Promise<net.Socket & { received: () => string }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = net.connect(port, '127.0.0.1', () => resolve(Object.assign(socket, { received: () => data })));
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

/** A plain GET with node:http, resolving with status and body; rejects on socket errors. */
export function get(port: number, path = '/', options: http.RequestOptions = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Servers of the calling test file closed after each of its tests: `h1` is `startHttp1` whose
 * server is closed then, `closeAfter` queues any other closing. Call it once at the top level of
 * the file: it registers the `afterEach`.
 */
export function serversClosedAfterEach(): {
  h1: (handler: http.RequestListener) => Promise<TestServer<http.Server>>;
  closeAfter: (close: () => Promise<void>) => void;
} {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  return {
    h1: async (handler) => {
      const t = await startHttp1(handler);
      closers.push(t.close);
      return t;
    },
    closeAfter: (close) => {
      closers.push(close);
    },
  };
}
