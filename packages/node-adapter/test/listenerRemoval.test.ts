import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { createRegistry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { connectionOf, instrument } from '../src/index.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
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
    // The listener comes back in a microtask (before any request can arrive): put back synchronously, it
    // would land in the array removeAllListeners is walking and shift an application listener out of the walk.
    it(`on ${kind}, removeAllListeners('${event}') leaves the adapter's '${event}' listener in place, first; detach() removes it`, async () => {
      const server = make();
      const { detach } = instrument(server, { registry: createRegistry() });
      const [ours] = server.listeners(event);
      const app = () => {};
      server.on(event, app);
      server.removeAllListeners(event);
      await Promise.resolve();
      const afterRemoveAll = server.listeners(event);
      server.on(event, app);
      const afterNewListener = server.listeners(event);
      detach();
      expect(afterRemoveAll).toEqual([ours]);
      expect(afterNewListener).toEqual([ours, app]);
      expect(server.listeners(event)).toEqual([app]);
    });
  }

  // Putting the adapter's listener back at once, inside removeAllListeners' walk over the emitter's own array,
  // shifted one of two listeners prepended after instrumenting out of the walk: it survived the removal.
  for (const event of ['request', 'upgrade'] as const) {
    it(`removeAllListeners('${event}') removes every application listener, two prepended after instrumenting included`, async () => {
      const server = http.createServer();
      const { detach } = instrument(server, { registry: createRegistry() });
      const apps = [() => {}, () => {}, () => {}];
      server.on(event, apps[0]!);
      server.prependListener(event, apps[1]!);
      server.prependListener(event, apps[2]!);
      server.removeAllListeners(event);
      await Promise.resolve();
      const left = server.listeners(event).filter((l) => apps.includes(l as never));
      const total = server.listenerCount(event);
      detach();
      expect(left).toEqual([]);
      // 'request' keeps the adapter's own listener; 'upgrade' is followed only while the application listens.
      expect(total).toBe(event === 'request' ? 1 : 0);
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

  it("the adapter's 'upgrade' listener removed by reference while the application still listens is put back first before any request can come, and upgrades stay tracked", async () => {
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
    await Promise.resolve();
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

  it("an HTTP/2 server's 'stream' listeners are the application's (here Node's compat one) once streams flow: the tracking rides in a wrapper of the first, and detach() gives back the raw listeners as they were", async () => {
    const server = http2.createServer((req, res) => res.end(connectionOf(req) === undefined ? 'untracked' : 'tracked'));
    const before = server.rawListeners('stream');
    const registry = createRegistry();
    const { detach } = instrument(server, { registry });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = await h2connect((server.address() as { port: number }).port);
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 3; i++) bodies.push((await h2request(session)).body.toString());
      expect(bodies).toEqual(['tracked', 'tracked', 'tracked']);
      expect(server.listeners('stream')).toEqual(before);
      expect(server.rawListeners('stream')).toHaveLength(1);
      expect(registry.stats().opened).toBe(3);
      detach();
      expect(server.rawListeners('stream')).toEqual(before);
      expect((await h2request(session)).body.toString()).toBe('untracked');
      expect(registry.stats().opened).toBe(3);
    } finally {
      await h2close(session);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a core-API application removing its first 'stream' handler (the one carrying the tracking) by reference: that handler is no longer called, the next one answers, streams stay tracked", async () => {
    const server = http2.createServer();
    const calls: string[] = [];
    const first = (stream: http2.ServerHttp2Stream) => {
      calls.push(`first:${connectionOf(stream) !== undefined}`);
    };
    const second = (stream: http2.ServerHttp2Stream) => {
      calls.push(`second:${connectionOf(stream) !== undefined}`);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    };
    server.on('stream', first);
    server.on('stream', second);
    const registry = createRegistry();
    const { detach } = instrument(server, { registry });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = await h2connect((server.address() as { port: number }).port);
    try {
      await h2request(session);
      await h2request(session);
      server.removeListener('stream', first);
      await h2request(session);
      expect(calls).toEqual(['first:true', 'second:true', 'first:true', 'second:true', 'second:true']);
      expect(server.listeners('stream')).toEqual([second]);
      expect(registry.stats().opened).toBe(3);
    } finally {
      detach();
      await h2close(session);
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
