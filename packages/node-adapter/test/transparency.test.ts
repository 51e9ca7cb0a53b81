import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createRegistry, type Registry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { instrument } from '../src/index.js';
import { waitFor } from './helpers/server.js';

// Instrumenting must not change what a server answers. Node changes its behaviour when some events have
// listeners (an HTTP/2 'request' listener turns on the compat layer, which answers an unmet Expect with 417
// and CONNECT with 405 before a core-API application can; 'upgrade', 'connect', 'checkContinue' and
// 'checkExpectation' change HTTP/1 routing), so each server kind here answers the same requests bare and
// instrumented (before and after the application's listeners), and the answers must be identical.

const key = readFileSync(new URL('./helpers/tls-key.pem', import.meta.url));
const cert = readFileSync(new URL('./helpers/tls-cert.pem', import.meta.url));

type AnyServer = http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer;
type Lifeline = 'bare' | 'instrumented first' | 'instrumented last';
const LIFELINES: Lifeline[] = ['bare', 'instrumented first', 'instrumented last'];
const SERVER_TIMEOUT = 600;

interface Running {
  port: number;
  registry: Registry | undefined;
  close(): Promise<void>;
}

/** Builds the server, attaches the application and (maybe) Lifeline in the given order, and listens on 127.0.0.1. */
async function run(make: () => AnyServer, app: (server: AnyServer) => void, lifeline: Lifeline): Promise<Running> {
  const server = make();
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let registry: Registry | undefined;
  if (lifeline === 'instrumented first') registry = instrument(server, { registry: createRegistry() }).registry;
  app(server);
  if (lifeline === 'instrumented last') registry = instrument(server, { registry: createRegistry() }).registry;
  // With no 'timeout' listener of the app's, Node destroys a timed-out socket / session: ours must not change that.
  server.setTimeout(SERVER_TIMEOUT);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP/1.1 over a raw socket: the exact bytes the server sends, with the Date header taken out.

interface RawExchange {
  name: string;
  head: string;
  /** Sent after the server's first answer when that answer is `100 Continue`. */
  body?: string;
}

const host = 'Host: 127.0.0.1\r\nConnection: close\r\n';
const HTTP1_EXCHANGES: RawExchange[] = [
  { name: 'GET', head: `GET /plain HTTP/1.1\r\n${host}\r\n` },
  { name: 'POST with a body', head: `POST /upload HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhello` },
  { name: 'Expect: 100-continue', head: `POST /continue HTTP/1.1\r\n${host}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`, body: 'hello' },
  { name: 'an Expect other than 100-continue', head: `POST /teapot HTTP/1.1\r\n${host}Content-Length: 5\r\nExpect: teapot\r\n\r\n`, body: 'hello' },
  { name: 'an upgrade request', head: `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: tick-protocol\r\n\r\n` },
  { name: 'CONNECT', head: `CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n` },
  { name: 'a request the app never answers, until the server timeout', head: `GET /hang HTTP/1.1\r\n${host}\r\n` },
];

/** Sends one exchange and returns what came back until the server closed (or went quiet for a second). */
function rawExchange(connect: () => Duplex, exchange: RawExchange): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect();
    let received = '';
    let bodySent = false;
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(received.replace(/^Date: .*\r\n/gim, ''));
    };
    const rearm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        received += '<still open after 1 s of silence>';
        done();
      }, 1_000);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (exchange.body !== undefined && !bodySent && /^HTTP\/1\.1 100 /.test(received)) {
        bodySent = true;
        socket.write(exchange.body);
      }
      rearm();
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.write(exchange.head);
    rearm();
  });
}

/** The application: echoes each request; with `takeovers`, also answers upgrade and CONNECT on the socket. */
function http1App(takeovers: boolean) {
  return (server: AnyServer) => {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/hang') return;
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        // Connection: close ends every exchange at the socket's close, including an upgrade request answered here.
        res.writeHead(200, { 'x-app': 'echo', 'content-type': 'text/plain', connection: 'close' });
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    if (!takeovers) return;
    server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tick-protocol\r\n\r\nupgraded');
    });
    server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 200 Connection Established\r\n\r\ntunnel');
    });
  };
}

interface Http1Kind {
  kind: string;
  make: () => AnyServer;
  connect: (port: number) => Duplex;
}

const HTTP1_KINDS: Http1Kind[] = [
  { kind: 'http', make: () => http.createServer(), connect: (port) => net.connect(port, '127.0.0.1') },
  {
    kind: 'https',
    make: () => https.createServer({ key, cert }),
    connect: (port) => tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }),
  },
  {
    kind: 'http2 with allowHTTP1, an HTTP/1.1 client',
    make: () => http2.createSecureServer({ key, cert, allowHTTP1: true }),
    connect: (port) => tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }),
  },
];

/** Every exchange against one server; returns the answers, in order, and checks Lifeline released all it opened. */
async function http1Answers(k: Http1Kind, takeovers: boolean, lifeline: Lifeline): Promise<{ answers: string[]; opened: number }> {
  const running = await run(k.make, http1App(takeovers), lifeline);
  try {
    const answers: string[] = [];
    for (const exchange of HTTP1_EXCHANGES) answers.push(`${exchange.name}: ${await rawExchange(() => k.connect(running.port), exchange)}`);
    const registry = running.registry;
    if (registry !== undefined) await waitFor(() => registry.size === 0, 'every tracked connection to be released');
    return { answers, opened: registry?.stats().opened ?? 0 };
  } finally {
    await running.close();
  }
}

describe('an instrumented HTTP/1.1 server answers exactly as the same server without Lifeline', () => {
  for (const k of HTTP1_KINDS) {
    for (const takeovers of [false, true]) {
      const listeners = takeovers ? "with the app's 'upgrade' and 'connect' listeners" : "without 'upgrade' / 'connect' listeners";
      it(`${k.kind}, ${listeners}: GET, POST, Expect 100-continue, another Expect, upgrade, CONNECT, a server timeout`, async () => {
        const results = [];
        for (const lifeline of LIFELINES) results.push(await http1Answers(k, takeovers, lifeline));
        const [bare, first, last] = results;
        expect(first!.answers).toEqual(bare!.answers);
        expect(last!.answers).toEqual(bare!.answers);
        // Not vacuous: Lifeline tracked what reached the application.
        // Every exchange but the unmet Expect (Node answers 417 itself) and, without takeover listeners, CONNECT
        // (Node closes the socket); without an 'upgrade' listener the upgrade request is an ordinary request.
        expect(first!.opened).toBe(takeovers ? 6 : 5);
        expect(last!.opened).toBe(first!.opened);
      });
    }
  }

  it('the bare answers are the ones these tests mean to compare (Node routes each case as documented)', async () => {
    const { answers } = await http1Answers(HTTP1_KINDS[0]!, false, 'bare');
    const withTakeovers = await http1Answers(HTTP1_KINDS[0]!, true, 'bare');
    const byName = (list: string[], name: string) => list.find((a) => a.startsWith(`${name}: `))!;
    expect(byName(answers, 'Expect: 100-continue')).toMatch(/^Expect: 100-continue: HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(byName(answers, 'an Expect other than 100-continue')).toMatch(/HTTP\/1\.1 417 /);
    expect(byName(answers, 'an upgrade request')).toMatch(/HTTP\/1\.1 200 [\s\S]*GET \/ws \r\n/);
    expect(byName(answers, 'CONNECT')).toBe('CONNECT: ');
    expect(byName(answers, 'a request the app never answers, until the server timeout')).toBe('a request the app never answers, until the server timeout: ');
    expect(byName(withTakeovers.answers, 'an upgrade request')).toMatch(/HTTP\/1\.1 101 [\s\S]*upgraded$/);
    expect(byName(withTakeovers.answers, 'CONNECT')).toMatch(/HTTP\/1\.1 200 Connection Established\r\n\r\ntunnel$/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// HTTP/2: status, headers (without date), body, whether a 100 Continue came, the reset code, and any error
// the application's own calls threw.

interface H2Exchange {
  name: string;
  headers: http2.OutgoingHttpHeaders;
  body?: string;
}

const H2_EXCHANGES: H2Exchange[] = [
  { name: 'GET', headers: { ':path': '/plain' } },
  { name: 'POST with a body', headers: { ':method': 'POST', ':path': '/upload' }, body: 'hello' },
  { name: 'Expect: 100-continue', headers: { ':method': 'POST', ':path': '/continue', expect: '100-continue' }, body: 'hello' },
  { name: 'an Expect other than 100-continue', headers: { ':method': 'POST', ':path': '/teapot', expect: 'teapot' }, body: 'hello' },
  { name: 'CONNECT', headers: { ':method': 'CONNECT', ':authority': 'example.test:443' } },
  { name: 'a request the app never answers, until the server timeout', headers: { ':path': '/hang' } },
];

interface H2Answer {
  name: string;
  status: number | undefined;
  headers: Record<string, unknown>;
  body: string;
  continued: boolean;
  rstCode: number | undefined;
}

/** One request; a body waits for 100 Continue or a quarter second, as clients with Expect do, and is sent even after an early answer so the stream can close. */
function h2Exchange(session: http2.ClientHttp2Session, exchange: H2Exchange): Promise<H2Answer> {
  return new Promise((resolve) => {
    const stream = session.request(exchange.headers, { endStream: exchange.body === undefined });
    let status: number | undefined;
    let headers: Record<string, unknown> = {};
    let continued = false;
    let body = '';
    if (exchange.body !== undefined) {
      const send = () => {
        clearTimeout(timer);
        if (!stream.destroyed && stream.writable) stream.end(exchange.body);
      };
      const timer = setTimeout(send, 250);
      stream.once('continue', () => {
        continued = true;
        send();
      });
    }
    stream.on('response', (h) => {
      status = h[':status'];
      const { date: _date, ...rest } = h;
      headers = rest;
    });
    stream.setEncoding('latin1');
    stream.on('data', (c: string) => (body += c));
    stream.on('error', () => {});
    stream.on('close', () => resolve({ name: exchange.name, status, headers, body, continued, rstCode: stream.rstCode }));
  });
}

/** A core-API application: everything arrives as 'stream'; errors its own calls throw are recorded, not fatal. */
function coreApp(appErrors: string[]) {
  return (server: AnyServer) => {
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      if (headers[':path'] === '/hang') return;
      let body = '';
      stream.setEncoding('latin1');
      stream.on('data', (c: string) => (body += c));
      stream.on('error', () => {});
      stream.on('end', () => {
        try {
          stream.respond({ ':status': 200, 'x-app': 'core' });
          stream.end(`${headers[':method']} ${headers[':path'] ?? headers[':authority']} ${body}`);
        } catch (error) {
          appErrors.push((error as { code?: string }).code ?? String(error));
        }
      });
    });
  };
}

/** A compat-API application; with `connect`, it also answers CONNECT itself. */
function compatApp(connect: boolean) {
  return (server: AnyServer) => {
    server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      if (req.url === '/hang') return;
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        res.writeHead(200, { 'x-app': 'compat' });
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    if (connect) {
      server.on('connect', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        res.writeHead(200, { 'x-app': 'tunnel' });
        res.end(`tunnel to ${req.headers[':authority']}`);
      });
    }
  };
}

async function h2Answers(app: (server: AnyServer) => void, lifeline: Lifeline): Promise<{ answers: H2Answer[]; opened: number }> {
  const running = await run(() => http2.createServer(), app, lifeline);
  const session = http2.connect(`http://127.0.0.1:${running.port}`);
  session.on('error', () => {});
  try {
    const answers: H2Answer[] = [];
    for (const exchange of H2_EXCHANGES) answers.push(await h2Exchange(session, exchange));
    const registry = running.registry;
    if (registry !== undefined) await waitFor(() => registry.size === 0, 'every tracked stream to be released');
    return { answers, opened: registry?.stats().opened ?? 0 };
  } finally {
    session.destroy();
    await running.close();
  }
}

describe('an instrumented HTTP/2 server answers exactly as the same server without Lifeline', () => {
  it("core API ('stream' only): GET, POST, Expect 100-continue, another Expect, CONNECT, a server timeout, and the app's own respond() never throws", async () => {
    const errors: Record<Lifeline, string[]> = { bare: [], 'instrumented first': [], 'instrumented last': [] };
    const results: Partial<Record<Lifeline, { answers: H2Answer[]; opened: number }>> = {};
    for (const lifeline of LIFELINES) results[lifeline] = await h2Answers(coreApp(errors[lifeline]), lifeline);
    expect(results['instrumented first']!.answers).toEqual(results.bare!.answers);
    expect(results['instrumented last']!.answers).toEqual(results.bare!.answers);
    expect(errors).toEqual({ bare: [], 'instrumented first': [], 'instrumented last': [] });
    expect(results['instrumented first']!.opened).toBe(H2_EXCHANGES.length);
    expect(results['instrumented last']!.opened).toBe(H2_EXCHANGES.length);
    // What is compared: the core API answers every case itself, with no 100 Continue of Node's.
    const answered = H2_EXCHANGES.filter((e) => e.headers[':path'] !== '/hang');
    expect(results.bare!.answers.slice(0, answered.length).map((a) => [a.name, a.status, a.continued])).toEqual(answered.map((e) => [e.name, 200, false]));
    expect(results.bare!.answers.at(-1)).toMatchObject({ status: undefined, body: '' });
  });

  for (const connect of [false, true]) {
    it(`compat API ('request'), ${connect ? "with the app's 'connect' listener" : "without a 'connect' listener"}: GET, POST, Expect 100-continue, another Expect, CONNECT, a server timeout`, async () => {
      const results = [];
      for (const lifeline of LIFELINES) results.push(await h2Answers(compatApp(connect), lifeline));
      const [bare, first, last] = results;
      expect(first!.answers).toEqual(bare!.answers);
      expect(last!.answers).toEqual(bare!.answers);
      expect(first!.opened).toBe(H2_EXCHANGES.length);
      expect(last!.opened).toBe(H2_EXCHANGES.length);
      const statusOf = (name: string) => bare!.answers.find((a) => a.name === name)!.status;
      expect([statusOf('an Expect other than 100-continue'), statusOf('CONNECT')]).toEqual([417, connect ? 200 : 405]);
    });
  }

  it("on an HTTP/2 server that allows HTTP/1.1, Lifeline listens to 'request' only while the application does", () => {
    const server = http2.createSecureServer({ key, cert, allowHTTP1: true });
    const app = () => {};
    const counts: number[] = [];
    const { detach } = instrument(server, { registry: createRegistry() });
    counts.push(server.listenerCount('request'));
    server.on('request', app);
    counts.push(server.listenerCount('request'));
    server.removeListener('request', app);
    counts.push(server.listenerCount('request'));
    server.on('request', app);
    detach();
    counts.push(server.listenerCount('request'));
    expect(counts).toEqual([0, 2, 0, 1]);
    expect(server.listeners('request')).toEqual([app]);
  });

  // Node falls back to HTTP/1.1 only with allowHTTP1 (on a TLS connection that did not negotiate h2), so only
  // then can 'request', 'checkContinue', 'checkExpectation', 'upgrade' or 'connect' bring an HTTP/1.1 request;
  // without it a second 'request' listener would only cost every compat request an emit.
  for (const [kind, make] of [
    ['a cleartext HTTP/2 server', () => http2.createServer()],
    ['a secure HTTP/2 server without allowHTTP1', () => http2.createSecureServer({ key, cert })],
  ] as const) {
    it(`on ${kind}, Lifeline adds no listener for HTTP/1.1 requests, whatever the application listens to`, () => {
      const server: http2.Http2Server | http2.Http2SecureServer = make();
      const events = ['request', 'checkContinue', 'checkExpectation', 'upgrade', 'connect'] as const;
      const before = events.map((e) => server.listenerCount(e));
      const { detach } = instrument(server, { registry: createRegistry() });
      for (const e of events) server.on(e, () => {});
      expect(events.map((e) => server.listenerCount(e))).toEqual(before.map((n) => n + 1));
      expect(server.listenerCount('stream')).toBeGreaterThan(0);
      detach();
    });
  }

  it("where Node's options are not found on an HTTP/2 server, Lifeline listens for HTTP/1.1 requests as if allowed", () => {
    const server = http2.createServer();
    server.on('request', () => {}); // Node reads its options here, to set up its compat layer
    for (const key of Object.getOwnPropertySymbols(server)) if (key.description === 'options') delete (server as unknown as Record<symbol, unknown>)[key];
    const { detach } = instrument(server, { registry: createRegistry() });
    expect(server.listenerCount('request')).toBe(2);
    detach();
    expect(server.listenerCount('request')).toBe(1);
  });
});
