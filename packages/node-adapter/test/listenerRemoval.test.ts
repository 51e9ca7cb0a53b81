import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { createRegistry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { connectionOf, instrument } from '../src/index.js';
import { get, rawClient, startHttp1, waitForReleases } from './helpers/server.js';

// Only detach() stops tracking. Other code that removes the adapter's listeners while they are still
// wanted (engine.io replaces a server's 'request' listeners with removeAllListeners) does not.

const UPGRADE_REQUEST = 'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

describe("other code removing the adapter's listeners", () => {
  const servers: [string, () => http.Server | http2.Http2Server, string][] = [
    ['an http.Server', () => http.createServer(), 'request'],
    ['an HTTP/2 server', () => http2.createServer(), 'stream'],
  ];
  for (const [kind, make, event] of servers) {
    it(`on ${kind}, removeAllListeners('${event}') leaves the adapter's '${event}' listener in place, first; detach() removes it`, () => {
      const server = make();
      const { detach } = instrument(server, { registry: createRegistry() });
      const [ours] = server.listeners(event);
      const app = () => {};
      server.on(event, app);
      server.removeAllListeners(event);
      const afterRemoveAll = server.listeners(event);
      server.on(event, app);
      const afterNewListener = server.listeners(event);
      detach();
      expect(afterRemoveAll).toEqual([ours]);
      expect(afterNewListener).toEqual([ours, app]);
      expect(server.listeners(event)).toEqual([app]);
    });
  }

  it("a handler the application prepends after instrumenting stays ahead of the adapter's listener as other listeners come and go", () => {
    const server = http.createServer();
    const { detach } = instrument(server, { registry: createRegistry() });
    const [ours] = server.listeners('request');
    const early = () => {};
    const late = () => {};
    server.prependListener('request', early);
    server.on('request', late);
    server.removeListener('request', late);
    server.on('upgrade', early);
    const [oursOnUpgrade] = server.listeners('upgrade');
    server.prependListener('upgrade', late);
    const another = () => {};
    server.on('upgrade', another);
    const order = { request: server.listeners('request'), upgrade: server.listeners('upgrade') };
    detach();
    expect(order.request).toEqual([early, ours]);
    expect(order.upgrade).toEqual([late, oursOnUpgrade, early, another]);
  });

  it("removeAllListeners('request') then a new 'request' listener: requests are still tracked, and connectionOf(req) works in it", async () => {
    const t = await startHttp1((_req, res) => res.end('replaced'));
    const seen: boolean[] = [];
    t.server.removeAllListeners('request');
    t.server.on('request', (req, res) => {
      seen.push(connectionOf(req) !== undefined);
      res.end('new handler');
    });
    try {
      expect((await get(t.port, '/')).body).toBe('new handler');
      await waitForReleases(t, 1);
      expect(seen).toEqual([true]);
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([['finished', 'http1']]);
    } finally {
      await t.close();
    }
  });

  it("the adapter's 'upgrade' listener removed by reference while the application still listens is put back at once, first, and upgrades stay tracked", async () => {
    const t = await startHttp1((_req, res) => res.end('not an upgrade'));
    const tracked: boolean[] = [];
    const appUpgrade = (req: http.IncomingMessage, socket: Duplex) => {
      tracked.push(connectionOf(req) !== undefined);
      socket.on('error', () => {});
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    };
    t.server.on('upgrade', appUpgrade);
    const [ours] = t.server.listeners('upgrade');
    t.server.removeListener('upgrade', ours as never);
    const afterRemoval = t.server.listeners('upgrade');
    try {
      const client = await rawClient(t.port);
      client.write(UPGRADE_REQUEST);
      await waitForReleases(t, 1);
      client.destroy();
      expect(afterRemoval).toEqual([ours, appUpgrade]);
      expect(tracked).toEqual([true]);
      expect(t.releases.map((c) => c.transport)).toEqual(['websocket']);
    } finally {
      await t.close();
    }
  });
});
