import type { ServerHttp2Stream } from 'node:http2';
import { connect } from 'node:net';
import { createRegistry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { drain } from '../src/index.js';
import { request } from './helpers/client.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { startHttp1, startHttp2, waitFor } from './helpers/server.js';

describe('drain over a real 127.0.0.1 socket', () => {
  it('waits for in-flight requests that finish before the deadline, and stops accepting', async () => {
    // Both answer only once drain has begun (never on a timer: on a busy machine a timer could
    // finish a request before drain starts). The deadline is far off; drain must not wait for it.
    const pending: ((body: string) => void)[] = [];
    const t = await startHttp1((_req, res) => pending.push((body) => res.end(body)));
    try {
      const responses = [request(t.port, { path: '/a' }), request(t.port, { path: '/b' })];
      await waitFor(() => pending.length === 2, 'both requests to arrive');
      const started = Date.now();
      const draining = drain(t.registry, { server: t.server, deadline: 20_000 });
      for (const answer of pending) answer('done');
      const result = await draining;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(result).toEqual({ drained: 2, forced: 0 });
      expect((await Promise.all(responses)).map((r) => [r.status, r.body.toString(), r.complete])).toEqual([
        [200, 'done', true],
        [200, 'done', true],
      ]);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished', 'finished']);
      expect(t.registry.size).toBe(0);
      expect(t.server.listening).toBe(false);
      const refused = await request(t.port);
      expect(refused.status).toBeUndefined();
    } finally {
      await t.close().catch(() => {});
    }
  });

  it('forces what is left at the deadline: 503 when nothing was sent, cut when the response had started', async () => {
    const t = await startHttp1((req, res) => {
      if (req.url === '/quick') setTimeout(() => res.end('quick'), 30);
      else if (req.url === '/started') {
        res.writeHead(200, { 'content-length': 100 });
        res.write('begun');
      }
      // '/stuck' never answers
    });
    try {
      const quick = request(t.port, { path: '/quick' });
      const stuck = request(t.port, { path: '/stuck' });
      const started = request(t.port, { path: '/started' });
      await waitFor(() => t.registry.size === 3, 'three requests in flight');
      const before = Date.now();
      const result = await drain(t.registry, { server: t.server, deadline: 200 });
      expect(Date.now() - before).toBeGreaterThanOrEqual(190);
      expect(result).toEqual({ drained: 1, forced: 2 });
      expect(t.registry.size).toBe(0);
      const [q, s, b] = await Promise.all([quick, stuck, started]);
      expect([q.status, q.complete]).toEqual([200, true]);
      expect([s.status, s.body.toString()]).toEqual([503, 'Service Unavailable\n']);
      expect([b.status, b.body.toString(), b.complete]).toEqual([200, 'begun', false]);
      expect(t.releases.map((c) => c.outcome).sort()).toEqual(['errored', 'errored', 'finished']);
      const forced = t.releases.filter((c) => c.outcome === 'errored').map((c) => c.event);
      expect(forced).toEqual([
        { type: 'ERROR', reason: 'shutdown' },
        { type: 'ERROR', reason: 'shutdown' },
      ]);
    } finally {
      await t.close().catch(() => {});
    }
  });

  it('serves a request whose client connected before drain but had not sent it yet (from Node 26, server.close() resets such a socket at once)', async () => {
    // A rolling restart hands a worker a connection just before it drains; the client's request bytes are read a
    // turn later. Node 26's closeIdleConnections (called by http's own server.close()) counts such a socket as idle
    // (nodejs/node#63470) and resets it. drain gives it a grace to send its request first.
    const t = await startHttp1((_req, res) => res.end('served'));
    try {
      const accepted = new Promise((resolve) => t.server.once('connection', resolve));
      const socket = connect(t.port, '127.0.0.1');
      const reply: Promise<string> = new Promise((resolve, reject) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (text.endsWith('served')) resolve(text);
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      await accepted;
      const result = await drain(t.registry, { server: t.server, deadline: 5_000 });
      expect(result).toEqual({ drained: 0, forced: 0 });
      socket.write('GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
      const text = await reply;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(text.endsWith('served')).toBe(true);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(t.registry.size).toBe(0);
      socket.destroy();
    } finally {
      await t.close().catch(() => {});
    }
  });

  // Before Node 26, closeIdleConnections leaves a socket that never sent a request alone (nodejs/node#63452).
  it.runIf(Number(process.versions.node.split('.')[0]) >= 26)('still closes a socket that connected and sent nothing, once the grace is over, so the server can close', async () => {
    const t = await startHttp1((_req, res) => res.end());
    try {
      const accepted = new Promise((resolve) => t.server.once('connection', resolve));
      const socket = connect(t.port, '127.0.0.1');
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      await accepted;
      const closed = new Promise<void>((resolve) => t.server.once('close', () => resolve()));
      await drain(t.registry, { server: t.server, deadline: 5_000 });
      await Promise.all([ended, closed]);
      expect(t.server.listening).toBe(false);
    } finally {
      await t.close().catch(() => {});
    }
  });

  it('closes a server that cannot take a property (preventExtensions) as Node does, without throwing', async () => {
    const t = await startHttp1((_req, res) => res.end());
    try {
      Object.preventExtensions(t.server);
      await expect(drain(t.registry, { server: t.server, deadline: 5_000 })).resolves.toEqual({ drained: 0, forced: 0 });
      expect(t.server.listening).toBe(false);
      expect(Object.getOwnPropertyNames(t.server)).not.toContain('closeIdleConnections');
    } finally {
      await t.close().catch(() => {});
    }
  });

  it('leaves no property of its own on the server it closed', async () => {
    const t = await startHttp1((_req, res) => res.end());
    try {
      await drain(t.registry, { server: t.server, deadline: 5_000 });
      expect(t.server.listening).toBe(false);
      expect(Object.hasOwn(t.server, 'closeIdleConnections')).toBe(false);
    } finally {
      await t.close().catch(() => {});
    }
  });

  it('resolves at once for an empty registry, and still closes the given server', async () => {
    const t = await startHttp1((_req, res) => res.end());
    try {
      const started = Date.now();
      const result = await drain(t.registry, { server: t.server, deadline: 5_000 });
      expect(result).toEqual({ drained: 0, forced: 0 });
      expect(Date.now() - started).toBeLessThan(100);
      expect(t.server.listening).toBe(false);
    } finally {
      await t.close().catch(() => {});
    }
  });

  it('releases connections opened on the registry directly (no transport) as errored (shutdown) at the deadline', async () => {
    const registry = createRegistry();
    const id = registry.open({ transport: 'custom' });
    const result = await drain(registry, { deadline: 20 });
    expect(result).toEqual({ drained: 0, forced: 1 });
    expect(registry.state(id)).toBeUndefined();
    expect(registry.stats().released.errored).toBe(1);
  });
});

describe('drain on an HTTP/2 server', () => {
  it('drain(registry) without a server sends GOAWAY only to sessions with streams in flight, not to one whose streams all ended', async () => {
    const held = new Map<string, ServerHttp2Stream>();
    const t = await startHttp2({
      stream: (stream, headers) => {
        const path = headers[':path']!;
        if (path.startsWith('/held')) held.set(path, stream);
        else stream.respond({ ':status': 204 }, { endStream: true });
      },
    });
    const done = await h2connect(t.port);
    const busy = await h2connect(t.port);
    try {
      // Two streams on `done`, tracked in order, ended newest first: both leave the adapter's live list.
      const first = h2request(done, { ':path': '/held-first' });
      await waitFor(() => held.has('/held-first'), 'the first stream');
      const second = h2request(done, { ':path': '/held-second' });
      await waitFor(() => held.has('/held-second'), 'the second stream');
      held.get('/held-second')!.respond({ ':status': 200 }, { endStream: true });
      await second;
      held.get('/held-first')!.respond({ ':status': 200 }, { endStream: true });
      await first;
      const inFlight = h2request(busy, { ':path': '/held-busy' });
      await waitFor(() => held.has('/held-busy'), 'the in-flight stream');
      const goaways: string[] = [];
      done.on('goaway', () => goaways.push('done'));
      busy.on('goaway', () => goaways.push('busy'));
      const result = await drain(t.registry, { deadline: 50 });
      expect(result).toEqual({ drained: 0, forced: 1 });
      expect((await inFlight).status).toBe(503);
      // A request on `done` after drain: a session sent GOAWAY would refuse it.
      expect((await h2request(done, { ':path': '/after' })).status).toBe(204);
      expect(new Set(goaways)).toEqual(new Set(['busy'])); // Node may send a graceful GOAWAY twice
    } finally {
      await h2close(done);
      await h2close(busy);
      await t.close();
    }
  });

  it('drain() sends GOAWAY to idle sessions too, so the server can close', async () => {
    const t = await startHttp2({ stream: (stream) => stream.respond({ ':status': 204 }, { endStream: true }) });
    const session = await h2connect(t.port);
    try {
      await h2request(session);
      let serverClosed = false;
      const result = await drain(t.registry, { server: t.server, deadline: 1_000 });
      t.server.once('close', () => (serverClosed = true));
      await waitFor(() => serverClosed || !t.server.listening, 'the server to close', 2_000);
      expect(result).toEqual({ drained: 0, forced: 0 });
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});
