import diagnosticsChannel from 'node:diagnostics_channel';
import type http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRegistry, type Registry } from '@lifeline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { subscribeOpen, subscribeRelease, trackStream, type ConnectionOpenMessage, type ConnectionReleaseMessage } from '../src/index.js';
import { request } from './helpers/client.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { rawClient, sleep, startHttp1, startHttp2, waitFor, waitForReleases } from './helpers/server.js';

/** Subscribes to both channels through the typed helpers, keeping only messages about `registry`. */
function listen(registry: () => Registry | undefined) {
  const opens: ConnectionOpenMessage[] = [];
  const releases: ConnectionReleaseMessage[] = [];
  const offOpen = subscribeOpen((m) => {
    if (m.registry === registry()) opens.push(m);
  });
  const offRelease = subscribeRelease((m) => {
    if (m.registry === registry()) releases.push(m);
  });
  const unsubscribe = () => {
    offOpen();
    offRelease();
  };
  return { opens, releases, unsubscribe };
}

let cleanup: (() => unknown) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

describe('diagnostics channels over a real 127.0.0.1 socket', () => {
  it('lifeline:connection:open and lifeline:connection:release carry one message per HTTP/1 connection, with id, outcome and the response as target', async () => {
    let registry: Registry | undefined;
    const l = listen(() => registry);
    cleanup = l.unsubscribe;
    const responses: http.ServerResponse[] = [];
    const t = await startHttp1((req, res) => {
      responses.push(res);
      if (req.url === '/ok') res.end('ok');
      // '/hang' is left for the client to abandon
    });
    registry = t.registry;
    const client = await rawClient(t.port);
    try {
      await request(t.port, { path: '/ok' });
      client.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => l.opens.length === 2, 'two open messages');
      client.destroy();
      await waitForReleases(t, 2);
      await sleep(20);
      expect(l.opens.map((m) => [m.id, m.transport])).toEqual([
        [1, 'http1'],
        [2, 'http1'],
      ]);
      expect(t.releases.map((c) => c.id).sort()).toEqual([1, 2]);
      expect(l.opens.map((m) => m.target)).toEqual(responses);
      expect(l.releases).toHaveLength(2);
      const byId = new Map(l.releases.map((m) => [m.id, m]));
      for (const released of t.releases) {
        expect(byId.get(released.id)).toMatchObject({ transport: 'http1', outcome: released.outcome, event: released.event });
      }
      expect(l.releases.map((m) => m.outcome).sort()).toEqual(['closed', 'finished']);
      for (const open of l.opens) expect(byId.get(open.id)!.target).toBe(open.target);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it('HTTP/2 streams and upgraded sockets publish too, with the stream or socket as target', async () => {
    let registry: Registry | undefined;
    const l = listen(() => registry);
    cleanup = l.unsubscribe;
    const streams: unknown[] = [];
    const h2 = await startHttp2({
      stream: (stream) => {
        streams.push(stream);
        stream.respond({ ':status': 204 }, { endStream: true });
      },
    });
    registry = h2.registry;
    const session = await h2connect(h2.port);
    try {
      await h2request(session);
      await waitForReleases(h2, 1);
      expect(l.opens).toMatchObject([{ id: h2.releases[0]!.id, transport: 'http2' }]);
      expect(l.opens[0]!.target).toBe(streams[0]);
      // instrument hands on the request's headers, which a stream does not keep where a subscriber could read them.
      expect(l.opens[0]!.headers?.[':path']).toBe('/');
      expect(l.releases).toMatchObject([{ id: h2.releases[0]!.id, transport: 'http2', outcome: 'finished' }]);
      expect(l.releases[0]!.target).toBe(streams[0]);
    } finally {
      await h2close(session);
      await h2.close();
    }

    let upgraded: Duplex | undefined;
    const h1 = await startHttp1((_req, res) => res.end());
    h1.server.on('upgrade', (_req, socket: Duplex) => {
      upgraded = socket;
      socket.on('error', () => {});
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    registry = h1.registry;
    l.opens.length = 0;
    l.releases.length = 0;
    const client = await rawClient(h1.port);
    try {
      client.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      await waitForReleases(h1, 1);
      expect(l.opens).toMatchObject([{ transport: 'websocket' }]);
      expect(l.opens[0]!.target).toBe(upgraded);
      expect(l.releases).toMatchObject([{ transport: 'websocket', outcome: 'finished' }]);
      expect(l.releases[0]!.target).toBe(upgraded);
    } finally {
      client.destroy();
      await h1.close();
    }
  });

  it('an HTTP/2 stream tracked with trackStream (no instrument) is announced too, with the stream as target and no headers', async () => {
    const registry = createRegistry();
    const l = listen(() => registry);
    cleanup = l.unsubscribe;
    const server = http2.createServer();
    const streams: http2.ServerHttp2Stream[] = [];
    server.on('stream', (stream) => {
      streams.push(stream);
      trackStream(stream, { registry });
      stream.respond({ ':status': 204 }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = await h2connect((server.address() as AddressInfo).port);
    try {
      await h2request(session);
      await waitFor(() => l.releases.length === 1, 'the release message');
      expect(l.opens).toEqual([{ id: 1, transport: 'http2', registry, target: streams[0] }]);
      expect(l.releases).toMatchObject([{ id: 1, transport: 'http2', outcome: 'finished' }]);
    } finally {
      await h2close(session);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('unsubscribing cleanly stops the messages and leaves the channels without subscribers', async () => {
    let registry: Registry | undefined;
    const l = listen(() => registry);
    cleanup = l.unsubscribe; // in case an assertion fails before the explicit unsubscribe
    const t = await startHttp1((_req, res) => res.end('ok'));
    registry = t.registry;
    try {
      await request(t.port);
      await waitForReleases(t, 1);
      expect([l.opens.length, l.releases.length]).toEqual([1, 1]);
      l.unsubscribe();
      expect(diagnosticsChannel.hasSubscribers('lifeline:connection:open')).toBe(false);
      expect(diagnosticsChannel.hasSubscribers('lifeline:connection:release')).toBe(false);
      await request(t.port);
      await waitForReleases(t, 2);
      expect([l.opens.length, l.releases.length]).toEqual([1, 1]);
      expect(() => l.unsubscribe(), 'unsubscribing twice').not.toThrow();
    } finally {
      await t.close();
    }
  });

  it('the channels are found by name with node:diagnostics_channel alone, as APM tools subscribe', async () => {
    let registry: Registry | undefined;
    const names: string[] = [];
    const onMessage = (message: unknown, name: string | symbol) => {
      if ((message as { registry?: unknown }).registry === registry) names.push(String(name));
    };
    diagnosticsChannel.subscribe('lifeline:connection:open', onMessage);
    diagnosticsChannel.subscribe('lifeline:connection:release', onMessage);
    cleanup = () => {
      diagnosticsChannel.unsubscribe('lifeline:connection:open', onMessage);
      diagnosticsChannel.unsubscribe('lifeline:connection:release', onMessage);
    };
    const t = await startHttp1((_req, res) => res.end('ok'));
    registry = t.registry;
    try {
      await request(t.port);
      await waitForReleases(t, 1);
      expect(names).toEqual(['lifeline:connection:open', 'lifeline:connection:release']);
    } finally {
      await t.close();
    }
  });

  it('a connection released on the registry directly is still announced on release, with outcome undefined and its target', async () => {
    let registry: Registry | undefined;
    const l = listen(() => registry);
    cleanup = l.unsubscribe;
    let response: http.ServerResponse | undefined;
    const t = await startHttp1((_req, res) => {
      response = res;
      // Someone ends the entry on the registry behind the adapter's back; the adapter learns of it at its next fact.
      t.registry.dispatch(t.registry.list()[0]!.id, { type: 'CLOSE', reason: 'aborted' });
      res.end('ok');
    });
    registry = t.registry;
    try {
      await request(t.port);
      await waitFor(() => l.releases.length === 1, 'one release message');
      expect(l.opens).toHaveLength(1);
      expect(l.releases[0]).toMatchObject({ id: l.opens[0]!.id, outcome: undefined, event: { type: 'FINISH' } });
      expect(l.releases[0]!.target).toBe(response);
    } finally {
      await t.close();
    }
  });
});
