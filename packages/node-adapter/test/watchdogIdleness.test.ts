import type http from 'node:http';
import net from 'node:net';
import { createRegistry, type ConnectionOutcome } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { startWatchdog } from '../src/index.js';
import { request } from './helpers/client.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { startHttp1, startHttp2, waitForReleases, type TestServer } from './helpers/server.js';

// Idleness means that no byte moved: a response written with plain `res.write` reports nothing to the
// registry, so only the transport's own counters tell a healthy stream from a stalled one.

const IDLE = 500;
const TICKS = 25; // one every 100 ms: 2.5 s, five idle timeouts
const TICK_MS = 100;
const tickBody = (i: number) => `data: tick ${i}\n\n`;
const fullBody = Array.from({ length: TICKS }, (_, i) => tickBody(i)).join('');

/** Writes `TICKS` server-sent events, one every 100 ms, then ends; stops early if the stream is destroyed. */
function writeTicks(target: { write(chunk: string): unknown; end(): unknown; destroyed: boolean }): void {
  let i = 0;
  const timer = setInterval(() => {
    if (target.destroyed) return void clearInterval(timer);
    target.write(tickBody(i++));
    if (i === TICKS) {
      clearInterval(timer);
      target.end();
    }
  }, TICK_MS);
}

/** Connects, sends `head`, and stops reading as soon as the first bytes arrive, so the server's writes back up. */
function stalledClient(port: number, head: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

async function withWatchdog<S>(t: TestServer<S>, run: () => Promise<void>): Promise<void> {
  const watchdog = startWatchdog(t.registry, { idleTimeout: IDLE });
  try {
    await run();
  } finally {
    watchdog.stop();
    await t.close();
  }
}

const timeoutRelease = { outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } };

describe('watchdog idleness over HTTP/1 (bytes on the socket, read at sweep time)', () => {
  it('keeps a server-sent-events response written with res.write alive past several idle timeouts: complete body, finished', async () => {
    const t = await startHttp1((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      writeTicks(res);
    });
    await withWatchdog(t, async () => {
      const started = Date.now();
      const r = await request(t.port);
      const elapsed = Date.now() - started;
      await waitForReleases(t, 1);
      expect(elapsed).toBeGreaterThan(4 * IDLE);
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      expect(r.body.toString()).toBe(fullBody);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    });
  });

  it('keeps a slow upload alive while its bytes arrive (bytes read count as movement)', async () => {
    const t = await startHttp1((req, res) => {
      let received = 0;
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => res.end(`got ${received}`));
    });
    await withWatchdog(t, async () => {
      const result = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
        const socket = net.connect(t.port, '127.0.0.1', () => {
          socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${TICKS * 10}\r\nConnection: close\r\n\r\n`);
          let i = 0;
          const timer = setInterval(() => {
            socket.write('0123456789');
            if (++i === TICKS) clearInterval(timer);
          }, TICK_MS);
        });
        let data = '';
        socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1]) || undefined, body: data.split('\r\n\r\n')[1] ?? '' }));
      });
      await waitForReleases(t, 1);
      expect(result).toEqual({ status: 200, body: `got ${TICKS * 10}` });
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    });
  });

  it('ends a response whose reader stopped reading, once backpressure stops the bytes: errored (timeout)', async () => {
    let written = 0;
    const t = await startHttp1((_req, res) => {
      res.writeHead(200, { 'content-length': 1024 * 1024 * 1024 });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!res.destroyed && written < 1024 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    await withWatchdog(t, async () => {
      const client = await stalledClient(t.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      try {
        await waitForReleases(t, 1, 10_000);
      } finally {
        client.destroy();
      }
      expect(written).toBeGreaterThan(64 * 1024);
      expect(t.releases[0]).toMatchObject(timeoutRelease);
    });
  });

  it('ends a handler that ignores backpressure and keeps writing to a stopped reader: the socket buffer is not movement', async () => {
    const t = await startHttp1((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(256 * 1024, 0x62);
      const timer = setInterval(() => {
        if (res.destroyed) clearInterval(timer);
        else res.write(chunk);
      }, 50);
    });
    await withWatchdog(t, async () => {
      const client = await stalledClient(t.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      try {
        await waitForReleases(t, 1, 10_000);
      } finally {
        client.destroy();
      }
      expect(t.releases[0]).toMatchObject(timeoutRelease);
    });
  });

  it('ends a request whose handler never answers: 503, errored (timeout), no earlier than idleTimeout', async () => {
    const t = await startHttp1(() => {});
    await withWatchdog(t, async () => {
      const started = Date.now();
      const r = await request(t.port);
      const elapsed = Date.now() - started;
      await waitForReleases(t, 1);
      expect(r.status).toBe(503);
      expect(elapsed).toBeGreaterThanOrEqual(IDLE - 5);
      expect(t.releases[0]).toMatchObject(timeoutRelease);
    });
  });
});

describe('watchdog idleness over HTTP/2 (bytes on the session socket, read at sweep time)', () => {
  it('keeps a compat response written with res.write alive past several idle timeouts: complete body, finished', async () => {
    const t = await startHttp2({
      request: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        writeTicks(res as unknown as { write(c: string): unknown; end(): unknown; destroyed: boolean });
      },
    });
    await withWatchdog(t, async () => {
      const session = await h2connect(t.port);
      try {
        const r = await h2request(session);
        await waitForReleases(t, 1);
        expect(r.status).toBe(200);
        expect(r.ended).toBe(true);
        expect(r.body.toString()).toBe(fullBody);
        expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      } finally {
        await h2close(session);
      }
    });
  });

  it('keeps a core-API stream written with stream.write alive past several idle timeouts: complete body, finished', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
        writeTicks(stream);
      },
    });
    await withWatchdog(t, async () => {
      const session = await h2connect(t.port);
      try {
        const r = await h2request(session);
        await waitForReleases(t, 1);
        expect(r.status).toBe(200);
        expect(r.ended).toBe(true);
        expect(r.body.toString()).toBe(fullBody);
        expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      } finally {
        await h2close(session);
      }
    });
  });

  it('ends a stream whose reader stopped reading, once flow control stops the bytes: errored (timeout)', async () => {
    let written = 0;
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200 });
        const chunk = Buffer.alloc(16 * 1024, 0x61);
        const pump = () => {
          while (!stream.destroyed && written < 1024 * 1024 * 1024) {
            written += chunk.length;
            if (!stream.write(chunk)) return void stream.once('drain', pump);
          }
        };
        pump();
      },
    });
    await withWatchdog(t, async () => {
      const session = await h2connect(t.port);
      try {
        const stream = session.request({ ':path': '/' });
        stream.on('error', () => {});
        stream.once('response', () => stream.pause());
        await waitForReleases(t, 1, 10_000);
      } finally {
        await h2close(session);
      }
      expect(written).toBeGreaterThan(0);
      expect(t.releases[0]).toMatchObject(timeoutRelease);
    });
  });

  it('ends a stream whose handler never answers: 503, errored (timeout)', async () => {
    const t = await startHttp2({ stream: () => {} });
    await withWatchdog(t, async () => {
      const session = await h2connect(t.port);
      try {
        const r = await h2request(session);
        await waitForReleases(t, 1);
        expect(r.status).toBe(503);
        expect(t.releases[0]).toMatchObject(timeoutRelease);
      } finally {
        await h2close(session);
      }
    });
  });
});

describe('watchdog idleness of an upgraded socket (bytes on the socket, read at sweep time)', () => {
  /** A raw upgrade request; resolves with everything the server sent once the socket closes. */
  function upgradeClient(port: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tick-protocol\r\n\r\n'),
      );
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(data));
    });
  }

  async function upgradeServer(onUpgrade: (socket: net.Socket) => void): Promise<TestServer<http.Server>> {
    const t = await startHttp1((_req, res) => res.end('not upgraded'));
    t.server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
      socket.on('error', () => {});
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tick-protocol\r\n\r\n');
      onUpgrade(socket);
    });
    return t;
  }

  it('keeps a socket that writes every 100 ms alive past several idle timeouts: everything arrives, finished', async () => {
    const t = await upgradeServer((socket) => writeTicks(socket));
    await withWatchdog(t, async () => {
      const received = await upgradeClient(t.port);
      await waitForReleases(t, 1);
      expect(received.split('\r\n\r\n')[1]).toBe(fullBody);
      expect(t.releases.map((c) => [c.transport, c.outcome])).toEqual([['upgrade', 'finished']]);
    });
  });

  it('ends a silent upgraded socket: errored (timeout), the client sees the socket close', async () => {
    const t = await upgradeServer(() => {});
    await withWatchdog(t, async () => {
      const received = await upgradeClient(t.port);
      await waitForReleases(t, 1);
      expect(received.startsWith('HTTP/1.1 101')).toBe(true);
      expect(t.releases[0]).toMatchObject({ transport: 'upgrade', ...timeoutRelease });
    });
  });
});

describe('watchdog idleness without a transport', () => {
  it('a connection opened on the registry directly (no byte counter) is idle by the registry alone, at the first sweep past idleTimeout', () => {
    let now = 0;
    const registry = createRegistry({ clock: () => now });
    const outcomes: ConnectionOutcome[] = [];
    registry.onRelease((c) => outcomes.push(c.outcome));
    const id = registry.open({ transport: 'custom' });
    const watchdog = startWatchdog(registry, { idleTimeout: 1_000 });
    const swept: number[] = [];
    try {
      now = 999;
      swept.push(watchdog.sweep());
      now = 1_000;
      swept.push(watchdog.sweep());
    } finally {
      watchdog.stop();
    }
    expect(swept).toEqual([0, 1]);
    expect(outcomes).toEqual(['errored']);
    expect(registry.state(id)).toBeUndefined();
  });
});
