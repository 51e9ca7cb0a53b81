// Behaviours pinned after a review of the adapter: each test names what it guards against.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, InvalidOptionsError, type ReleasedConnection } from '@lifeline/core';
import { drain, instrument, pipeResponse, sendFile, startWatchdog, track } from '../src/index.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { get, rawClient, startHttp1, startHttp2, waitFor, waitForReleases } from './helpers/server.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
async function h1(handler: http.RequestListener) {
  const t = await startHttp1(handler);
  closers.push(t.close);
  return t;
}

describe('boundaries: timers and options', () => {
  it('a timer value Node would turn into 1 ms is refused, naming the option', async () => {
    const registry = createRegistry();
    await expect(drain(registry, { deadline: 3e9 })).rejects.toThrow(/option "deadline"/);
    expect(() => startWatchdog(registry, { maxAge: 365 * 24 * 3600 * 1000 })).toThrow(/option "maxAge"/);
    expect(() => startWatchdog(registry, { idleTimeout: 100, interval: 1e-6 })).toThrow(/option "interval"/);
  });

  it('track() without a registry names the option instead of failing inside', () => {
    expect(() => track({} as http.IncomingMessage, {} as http.ServerResponse, {} as never)).toThrow(InvalidOptionsError);
    expect(() => track({} as http.IncomingMessage, {} as http.ServerResponse, {} as never)).toThrow(/track: option "registry"/);
  });

  it('instrument() reports a bad registry option as its own', () => {
    expect(() => instrument(http.createServer(), { journalSize: -1 })).toThrow(/^instrument: invalid options: option "journalSize"/);
  });

  it('sendFile() and pipeResponse() reject naming bad options, leaving the response untouched', async () => {
    const res = new http.ServerResponse(new http.IncomingMessage(null as never));
    await expect(sendFile(res, '/x', { contentType: 5 } as never)).rejects.toThrow(InvalidOptionsError);
    await expect(sendFile(res, '/x', { contentType: 5 } as never)).rejects.toThrow(/sendFile: .*option "contentType"/);
    await expect(pipeResponse(res, Readable.from([]), { expectedBytes: -1 })).rejects.toThrow(/option "expectedBytes"/);
    expect([res.headersSent, res.writableEnded, res.destroyed]).toEqual([false, false, false]);
  });
});

describe('answers that must stay well-formed', () => {
  it('fail() before headers drops headers the handler had set (a 503 must not carry its content-length)', async () => {
    const t = await h1((req, res) => {
      res.setHeader('content-length', 1000);
      res.setHeader('content-encoding', 'gzip');
      track(req, res, { registry: t.registry }).fail('timeout');
    });
    const r = await get(t.port);
    expect(r.status).toBe(503);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
    expect(r.headers['content-encoding']).toBeUndefined();
  });

  it('sendFile() with an invalid header value answers 500, closes the file and never rejects', async () => {
    let result: Awaited<ReturnType<typeof sendFile>> | undefined;
    const t = await h1(async (_req, res) => {
      result = await sendFile(res, new URL(import.meta.url).pathname, { headers: { 'x-bad': 'a\r\nb' } });
    });
    const r = await get(t.port);
    expect(r.status).toBe(500);
    await waitFor(() => result !== undefined, 'sendFile to resolve');
    expect(result!.error).toMatchObject({ code: 'ERR_INVALID_CHAR' });
    await waitForReleases(t, 1);
  });

  it('sendFile() on an untracked response whose headers were sent cuts it instead of leaving it hanging', async () => {
    const server = http.createServer(async (_req, res) => {
      res.writeHead(200);
      res.write('started');
      await sendFile(res, '/no/such/file');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const c = await rawClient((server.address() as AddressInfo).port);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(c.received()).toMatch(/started/);
  });

  it('pipeResponse() accepts a web ReadableStream (a fetch body)', async () => {
    const t = await h1((_req, res) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('from the web'));
          controller.close();
        },
      });
      void pipeResponse(res, body);
    });
    expect((await get(t.port)).body).toBe('from the web');
    await waitForReleases(t, 1);
    expect(t.releases[0]!.outcome).toBe('finished');
  });
});

describe('requests that do not go through "request"', () => {
  it('a request routed to the app\'s checkContinue listener is tracked; without one, Node still answers 100 itself', async () => {
    const t = await h1((_req, res) => res.end('plain'));
    let continued = 0;
    const withContinue = (req: http.IncomingMessage, res: http.ServerResponse) => {
      continued++;
      expect(t.instrumentation.connectionOf(req)).toBeDefined();
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
    await waitForReleases(t, 2);
    expect(t.releases.map((c) => c.outcome)).toEqual(['finished', 'finished']);
  });

  it('HTTP/1.1 requests on an HTTP/2 server with allowHTTP1 are tracked', async () => {
    const key = readFileSync(new URL('./helpers/tls-key.pem', import.meta.url));
    const cert = readFileSync(new URL('./helpers/tls-cert.pem', import.meta.url));
    const server = http2.createSecureServer({ key, cert, allowHTTP1: true }, (_req, res) => res.end('either'));
    const registry = createRegistry();
    const releases: ReleasedConnection[] = [];
    registry.onRelease((c) => releases.push(c));
    instrument(server, { registry });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: cert, agent: false }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    expect(body).toBe('either');
    await waitFor(() => releases.length === 1, 'release');
    expect(releases[0]).toMatchObject({ transport: 'https', outcome: 'finished' });
  });
});

describe('HTTP/2 endings', () => {
  it('a peer RST_STREAM with INTERNAL_ERROR is the peer leaving (closed, reset), not a server failure', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        stream.write('partial');
      },
    });
    closers.push(t.close);
    const session = await h2connect(t.port);
    const req = session.request({ ':path': '/' });
    req.on('error', () => {});
    req.once('data', () => req.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'reset' } });
    await h2close(session);
  });

  it('drain() sends GOAWAY to idle sessions too, so the server can close', async () => {
    const t = await startHttp2({ stream: (stream) => stream.respond({ ':status': 204 }, { endStream: true }) });
    const session = await h2connect(t.port);
    await h2request(session);
    let serverClosed = false;
    const result = await drain(t.registry, { server: t.server, deadline: 1_000 });
    t.server.once('close', () => (serverClosed = true));
    await waitFor(() => serverClosed || !t.server.listening, 'the server to close', 2_000);
    expect(result).toEqual({ drained: 0, forced: 0 });
    await h2close(session);
  });
});
