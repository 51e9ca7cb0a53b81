// Requests that reach the application by another route than the server's 'request' event
// (checkContinue, HTTP/1.1 on an HTTP/2 server with allowHTTP1, its upgrades and CONNECTs) are tracked all the same.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { h2close } from './helpers/h2.js';
import { serversClosedAfterEach, startSecureHttp2, tls, waitForReleases } from './helpers/server.js';

const { h1, closeAfter } = serversClosedAfterEach();

describe('requests that do not go through "request"', () => {
  it('a request routed to the app\'s checkContinue listener is tracked; without one, Node still answers 100 itself', async () => {
    const t = await h1((_req, res) => res.end('plain'));
    let continued = 0;
    const trackedOnArrival: boolean[] = [];
    const withContinue = (req: http.IncomingMessage, res: http.ServerResponse) => {
      continued++;
      trackedOnArrival.push(t.instrumentation.connectionOf(req) !== undefined);
      res.writeContinue();
      req.resume();
      req.on('end', () => res.end('continued'));
    };
    const post = () =>
      new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: t.port, method: 'POST', agent: false, headers: { expect: '100-continue' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('continue', () => req.end('payload'));
        req.on('error', reject);
      });
    expect(await post()).toBe('plain'); // no checkContinue listener: Node answered 100 and emitted 'request'
    t.server.on('checkContinue', withContinue);
    expect(await post()).toBe('continued');
    expect(continued).toBe(1);
    expect(trackedOnArrival).toEqual([true]);
    await waitForReleases(t, 2);
    expect(t.releases.map((c) => c.outcome)).toEqual(['finished', 'finished']);
  });

  it('HTTP/1.1 requests on an HTTP/2 server with allowHTTP1 are tracked', async () => {
    const t = await startSecureHttp2({ allowHTTP1: true }, { request: (_req, res) => res.end('either') });
    closeAfter(t.close);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: t.port, ca: tls.cert, agent: false }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    expect(body).toBe('either');
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ transport: 'https', outcome: 'finished' });
  });
});

const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
const UPGRADE_REQUEST = 'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
const CONNECT_REQUEST = 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n';

/** Sends `request` over TLS as HTTP/1.1 and resolves with all the server sent once it closes (after 2 s, with what came). */
function tlsExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: tls.cert, ALPNProtocols: ['http/1.1'] }, () => socket.write(request));
    const timer = setTimeout(() => socket.destroy(), 2_000);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/** The app's socket handlers: answer, then end the socket. */
const answerWith = (reply: string) => (_req: http.IncomingMessage, socket: Duplex) => {
  socket.on('error', () => {});
  socket.end(reply);
};

describe('a secure HTTP/2 server that allows HTTP/1.1 (allowHTTP1)', () => {
  it('an HTTP/1.1 Upgrade and an HTTP/1.1 CONNECT are tracked as websocket and tcp sockets, meta given each request', async () => {
    const t = await startSecureHttp2({ allowHTTP1: true }, {}, { meta: (r) => `${r.method} ${r.url}` });
    closeAfter(t.close);
    t.server.on('upgrade', answerWith(SWITCHING));
    t.server.on('connect', answerWith(ESTABLISHED));
    expect(await tlsExchange(t.port, UPGRADE_REQUEST)).toBe(SWITCHING);
    expect(await tlsExchange(t.port, CONNECT_REQUEST)).toBe(ESTABLISHED);
    await waitForReleases(t, 2);
    expect(t.releases.map((c) => [c.transport, c.meta, c.outcome])).toEqual([
      ['websocket', 'GET /chat', 'finished'],
      ['tcp', 'CONNECT example.test:443', 'finished'],
    ]);
  });

  it('an HTTP/2 CONNECT stream handed to the app\'s "connect" listener is tracked once, as the stream it is', async () => {
    const t = await startSecureHttp2({ allowHTTP1: true }, { request: (_req, res) => res.end() }, { meta: (r) => r.method });
    closeAfter(t.close);
    t.server.on('connect', (_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      res.writeHead(200);
      res.end();
    });
    const session = http2.connect(`https://127.0.0.1:${t.port}`, { ca: tls.cert });
    session.on('error', () => {});
    try {
      const status = await new Promise<number | undefined>((resolve) => {
        const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.test:443' });
        let answer: number | undefined;
        stream.on('response', (headers) => (answer = headers[':status']));
        stream.on('error', () => {});
        stream.on('close', () => resolve(answer));
        stream.resume();
      });
      expect(status).toBe(200);
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.transport, c.meta, c.outcome])).toEqual([['http2', 'CONNECT', 'finished']]);
      expect(t.registry.stats().opened).toBe(1);
    } finally {
      await h2close(session);
    }
  });

  it('upgrades: false leaves an HTTP/1.1 Upgrade to the app, untracked, and adds no "upgrade" listener', async () => {
    const t = await startSecureHttp2({ allowHTTP1: true }, {}, { upgrades: false });
    closeAfter(t.close);
    t.server.on('upgrade', answerWith(SWITCHING));
    expect(t.server.listenerCount('upgrade')).toBe(1);
    expect(await tlsExchange(t.port, UPGRADE_REQUEST)).toBe(SWITCHING);
    expect(t.registry.stats().opened).toBe(0);
  });
});
