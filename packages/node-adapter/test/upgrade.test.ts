import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRegistry, type ReleasedConnection } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { connectionOf, instrument, type Connection } from '../src/index.js';
import { rawClient, sleep, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

const UPGRADE_REQUEST = 'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

/**
 * Sends `request` on a fresh raw socket and resolves with everything received once the
 * server closes it; if it has not after `limitMs`, the client gives up and '<no close>' is appended.
 */
async function exchange(port: number, request: string, limitMs = 2_000): Promise<string> {
  const client = await rawClient(port);
  client.write(request);
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = await Promise.race([
    closed(client).then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), limitMs))),
  ]);
  clearTimeout(timer);
  if (gaveUp) {
    client.destroy();
    return client.received() + '<no close>';
  }
  return client.received();
}

describe('upgrade and CONNECT sockets over a real 127.0.0.1 socket', () => {
  it('an upgraded socket is tracked as websocket and released as finished when the server ends it', async () => {
    let seen: Connection | undefined;
    const t = await startHttp1((_req, res) => res.end('not an upgrade'));
    t.server.on('upgrade', (_req, socket: Duplex) => {
      seen = connectionOf(socket);
      socket.on('error', () => {});
      socket.end(SWITCHING);
    });
    try {
      const received = await exchange(t.port, UPGRADE_REQUEST);
      expect(received).toBe(SWITCHING);
      await waitForReleases(t, 1);
      await sleep(20);
      expect(seen?.transport).toBe('websocket');
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([['finished', 'websocket']]);
      expect(seen?.id).toBe(t.releases[0]!.id);
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('an upgrade with another protocol is tracked under transport "upgrade"', async () => {
    const t = await startHttp1((_req, res) => res.end());
    t.server.on('upgrade', (_req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n');
    });
    try {
      await exchange(t.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n');
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([['finished', 'upgrade']]);
    } finally {
      await t.close();
    }
  });

  it('client resets an upgraded socket → closed (reset)', async () => {
    const t = await startHttp1((_req, res) => res.end());
    let upgraded: Duplex | undefined;
    t.server.on('upgrade', (_req, socket: Duplex) => {
      upgraded = socket;
      socket.on('error', () => {});
      socket.write(SWITCHING); // and keep it open
    });
    const client = await rawClient(t.port);
    try {
      client.write(UPGRADE_REQUEST);
      await waitFor(() => client.received() === SWITCHING, 'the 101');
      expect(t.registry.size).toBe(1);
      client.resetAndDestroy();
      await waitForReleases(t, 1);
      await sleep(20);
      expect((upgraded as Socket).errored).toMatchObject({ code: 'ECONNRESET' });
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
      expect(t.releases[0]!.event).toMatchObject({ type: 'CLOSE', reason: 'reset' });
      expect(t.registry.size).toBe(0);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it('client closes an upgraded socket first (FIN), server ends its side in reply as ws does → closed (aborted)', async () => {
    // Node leaves upgraded sockets half-open (allowHalfOpen): the server sees 'end', then answers it with end().
    const order: string[] = [];
    const t = await startHttp1((_req, res) => res.end());
    t.server.on('upgrade', (_req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.on('end', () => {
        order.push('peer-end');
        socket.end();
      });
      socket.on('finish', () => order.push('our-finish'));
      socket.write(SWITCHING);
    });
    const client = await rawClient(t.port);
    try {
      client.write(UPGRADE_REQUEST);
      await waitFor(() => client.received() === SWITCHING, 'the 101');
      client.destroy();
      await waitForReleases(t, 1);
      await sleep(20);
      expect(order).toEqual(['peer-end', 'our-finish']);
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
      expect(t.releases[0]!.event).toMatchObject({ type: 'CLOSE', reason: 'aborted' });
      expect(t.registry.size).toBe(0);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it('CONNECT with a "connect" listener is tracked as tcp and released when the tunnel ends', async () => {
    let seen: Connection | undefined;
    const t = await startHttp1((_req, res) => res.end());
    t.server.on('connect', (_req, socket: Duplex) => {
      seen = connectionOf(socket);
      socket.on('error', () => {});
      socket.end('HTTP/1.1 200 Connection Established\r\n\r\ntunnel-bytes');
    });
    try {
      const received = await exchange(t.port, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
      expect(received).toBe('HTTP/1.1 200 Connection Established\r\n\r\ntunnel-bytes');
      await waitForReleases(t, 1);
      expect(seen?.transport).toBe('tcp');
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([['finished', 'tcp']]);
      expect(t.registry.size).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('connectionOf(req) in an "upgrade" handler is the upgraded socket\'s connection', async () => {
    const seen: { byReq?: Connection | undefined; bySocket?: Connection | undefined } = {};
    const t = await startHttp1((_req, res) => res.end('not an upgrade'));
    t.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      seen.byReq = connectionOf(req);
      seen.bySocket = connectionOf(socket);
      socket.on('error', () => {});
      socket.end(SWITCHING);
    });
    try {
      expect(await exchange(t.port, UPGRADE_REQUEST)).toBe(SWITCHING);
      await waitForReleases(t, 1);
      expect(seen.byReq).toBeDefined();
      expect(seen.byReq).toBe(seen.bySocket);
      expect(seen.byReq?.transport).toBe('websocket');
      expect(t.releases.map((c) => [c.id, c.outcome])).toEqual([[seen.byReq!.id, 'finished']]);
    } finally {
      await t.close();
    }
  });

  it('connectionOf(req) in a "connect" handler is the tunnel socket\'s connection, and its signal aborts when the client leaves', async () => {
    const seen: { byReq?: Connection | undefined; bySocket?: Connection | undefined } = {};
    const t = await startHttp1((_req, res) => res.end());
    let tunnel: Duplex | undefined;
    t.server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
      tunnel = socket;
      seen.byReq = connectionOf(req);
      seen.bySocket = connectionOf(socket);
      socket.on('error', () => {});
      socket.on('end', () => socket.end()); // a proxy closes its side when the client closes its own
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'); // and keeps the tunnel open until then
    });
    const client = await rawClient(t.port);
    try {
      client.write('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
      await waitFor(() => seen.byReq !== undefined || seen.bySocket !== undefined, 'the connect handler');
      expect(seen.byReq).toBeDefined();
      expect(seen.byReq).toBe(seen.bySocket);
      expect(seen.byReq?.transport).toBe('tcp');
      const signal = seen.byReq!.signal;
      client.destroy();
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.id, c.outcome])).toEqual([[seen.byReq!.id, 'closed']]);
      expect(signal.aborted).toBe(true);
    } finally {
      client.destroy();
      tunnel?.destroy();
      await t.close();
    }
  });

  it('with two "upgrade" listeners (one per path, as two WebSocket servers on one http.Server) every upgraded socket is tracked', async () => {
    const t = await startHttp1((_req, res) => res.end());
    const answeredBy: string[] = [];
    for (const path of ['/chat', '/feed']) {
      t.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
        if (req.url !== path) return;
        answeredBy.push(path);
        socket.on('error', () => {});
        socket.end(SWITCHING);
      });
    }
    try {
      expect(await exchange(t.port, UPGRADE_REQUEST)).toBe(SWITCHING);
      expect(await exchange(t.port, UPGRADE_REQUEST.replace('/chat', '/feed'))).toBe(SWITCHING);
      await waitForReleases(t, 2);
      expect(answeredBy).toEqual(['/chat', '/feed']);
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([
        ['finished', 'websocket'],
        ['finished', 'websocket'],
      ]);
    } finally {
      await t.close();
    }
  });

  it('without a "connect" listener Node still closes CONNECT sockets unanswered, and nothing is tracked', async () => {
    const t = await startHttp1((_req, res) => res.end('should not be called'));
    try {
      expect(t.server.listenerCount('connect')).toBe(0);
      const received = await exchange(t.port, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
      expect(received).toBe('');
      expect(t.registry.stats().opened).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('without any "upgrade" listener an Upgrade request still reaches the "request" handler', async () => {
    const upgradeHeaders: (string | undefined)[] = [];
    const t = await startHttp1((req, res) => {
      upgradeHeaders.push(req.headers.upgrade);
      res.setHeader('connection', 'close');
      res.end('plain http');
    });
    try {
      expect(t.server.listenerCount('upgrade')).toBe(0);
      const received = await exchange(t.port, UPGRADE_REQUEST);
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(received.endsWith('plain http')).toBe(true);
      expect(upgradeHeaders).toEqual(['websocket']);
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([['finished', 'http1']]);
    } finally {
      await t.close();
    }
  });

  it('adding then removing an app "upgrade" listener restores routing to "request"', async () => {
    const routed: string[] = [];
    const t = await startHttp1((_req, res) => {
      routed.push('request');
      res.setHeader('connection', 'close');
      res.end('plain http');
    });
    const onUpgrade = (_req: http.IncomingMessage, socket: Duplex) => {
      routed.push('upgrade');
      socket.on('error', () => {});
      socket.end(SWITCHING);
    };
    try {
      t.server.on('upgrade', onUpgrade);
      expect(await exchange(t.port, UPGRADE_REQUEST)).toBe(SWITCHING);
      t.server.removeListener('upgrade', onUpgrade);
      expect(t.server.listenerCount('upgrade')).toBe(0);
      expect(await exchange(t.port, UPGRADE_REQUEST)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*plain http$/);
      expect(routed).toEqual(['upgrade', 'request']);
      await waitForReleases(t, 2);
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([
        ['finished', 'websocket'],
        ['finished', 'http1'],
      ]);
    } finally {
      await t.close();
    }
  });

  it('a once("upgrade") listener that has fired leaves the server routing Upgrade requests to "request"', async () => {
    const routed: string[] = [];
    const t = await startHttp1((_req, res) => {
      routed.push('request');
      res.setHeader('connection', 'close');
      res.end('plain http');
    });
    t.server.once('upgrade', (_req, socket: Duplex) => {
      routed.push('upgrade');
      socket.on('error', () => {});
      socket.end(SWITCHING);
    });
    try {
      expect(await exchange(t.port, UPGRADE_REQUEST)).toBe(SWITCHING);
      expect(t.server.listenerCount('upgrade')).toBe(0);
      expect(await exchange(t.port, UPGRADE_REQUEST)).toMatch(/plain http$/);
      expect(routed).toEqual(['upgrade', 'request']);
    } finally {
      await t.close();
    }
  });

  it('an "upgrade" listener added before instrument() is followed too; detach() stops tracking, not routing', async () => {
    const server = http.createServer((_req, res) => res.end());
    server.on('upgrade', (_req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.end(SWITCHING);
    });
    const registry = createRegistry();
    const releases: ReleasedConnection[] = [];
    registry.onRelease((c) => releases.push(c));
    const instrumentation = instrument(server, { registry });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await exchange(port, UPGRADE_REQUEST)).toBe(SWITCHING);
      await waitForReleases({ releases }, 1);
      expect(releases.map((c) => c.transport)).toEqual(['websocket']);
      instrumentation.detach();
      expect(server.listenerCount('upgrade')).toBe(1);
      expect(await exchange(port, UPGRADE_REQUEST)).toBe(SWITCHING);
      expect(registry.stats().opened).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('upgrades: false leaves upgraded sockets untracked and listeners untouched', async () => {
    const server = http.createServer((_req, res) => res.end());
    const registry = createRegistry();
    instrument(server, { registry, upgrades: false });
    server.on('upgrade', (_req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.end(SWITCHING);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(server.listenerCount('upgrade')).toBe(1);
      expect(await exchange(port, UPGRADE_REQUEST)).toBe(SWITCHING);
      expect(registry.stats().opened).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
