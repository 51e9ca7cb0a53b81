// track(), trackStream() and trackSocket() called by the application itself, on servers that
// are not instrumented: attaching after the transport already ended releases the connection at
// once with the outcome of that ending, and tracking the same thing twice gives the same handle.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, type ConnectionId, type ReleasedConnection } from '@lifeline/core';
import { connectionOf, track, trackSocket, trackStream, type Connection } from '../src/index.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { get, rawClient, waitFor } from './helpers/server.js';

const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
const UPGRADE_REQUEST = 'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

const servers: { close(cb: () => void): unknown }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    (server as http.Server).closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen<S extends http.Server | http2.Http2Server>(server: S): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A registry that records its releases, and a way to ask whether `id` was released by the time of the call. */
function recordingRegistry() {
  const registry = createRegistry();
  const releases: ReleasedConnection[] = [];
  registry.onRelease((c) => releases.push(c));
  return { registry, releases, releasedNow: (id: ConnectionId) => registry.state(id) === undefined };
}

const endingOf = (c: ReleasedConnection) => [c.outcome, (c.event as { reason?: string }).reason];

describe('attaching after the transport ended: released at once, with the outcome of that ending', () => {
  it('HTTP/1: a response the application destroyed → closed (aborted); destroyed with an error → errored (destroyed)', async () => {
    const { registry, releases, releasedNow } = recordingRegistry();
    const atOnce: boolean[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/error') res.destroy(new Error('the app gave up'));
      else res.destroy();
      atOnce.push(releasedNow(track(req, res, { registry }).id));
    });
    const port = await listen(server);
    await get(port, '/plain').catch(() => undefined);
    await get(port, '/error').catch(() => undefined);
    expect(atOnce).toEqual([true, true]);
    expect(releases.map(endingOf)).toEqual([
      ['closed', 'aborted'],
      ['errored', 'destroyed'],
    ]);
    expect(releases[1]!.event).toMatchObject({ error: { message: 'the app gave up' } });
  });

  it('HTTP/2: a stream that already closed → finished when it was answered in full, closed (cancelled) when the client cancelled it', async () => {
    const { registry, releases, releasedNow } = recordingRegistry();
    const atOnce: boolean[] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      stream.on('close', () => atOnce.push(releasedNow(trackStream(stream, { registry }).id)));
      stream.respond({ ':status': 200 });
      if (headers[':path'] === '/full') stream.end('all of it');
      else stream.write('part of it');
    });
    const port = await listen(server);
    const session = await h2connect(port);
    try {
      expect((await h2request(session, { ':path': '/full' })).ended).toBe(true);
      await waitFor(() => atOnce.length === 1, 'the answered stream to close');
      await new Promise<void>((resolve) => {
        const req = session.request({ ':path': '/cut' });
        req.on('error', () => {});
        req.once('data', () => req.close(http2.constants.NGHTTP2_CANCEL));
        req.on('close', () => resolve());
      });
      await waitFor(() => atOnce.length === 2, 'the cancelled stream to close');
      expect(atOnce).toEqual([true, true]);
      expect(releases.map(endingOf)).toEqual([
        ['finished', undefined],
        ['closed', 'cancelled'],
      ]);
    } finally {
      await h2close(session);
    }
  });

  it('an upgraded socket that already closed → finished when the server ended it, closed (reset) when the client reset it', async () => {
    const { registry, releases, releasedNow } = recordingRegistry();
    const atOnce: boolean[] = [];
    const server = http.createServer();
    server.on('upgrade', (req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.on('close', () => atOnce.push(releasedNow(trackSocket(socket, { registry }).id)));
      if (req.headers['x-ending'] === 'server-ends') socket.end(SWITCHING);
      else socket.write(SWITCHING);
    });
    const port = await listen(server);
    const ended = await rawClient(port);
    ended.write(UPGRADE_REQUEST.replace('\r\n\r\n', '\r\nX-Ending: server-ends\r\n\r\n'));
    await waitFor(() => atOnce.length === 1, 'the socket the server ended to close');
    ended.destroy();
    const reset = await rawClient(port);
    reset.write(UPGRADE_REQUEST);
    await waitFor(() => reset.received() === SWITCHING, 'the 101');
    reset.resetAndDestroy();
    await waitFor(() => atOnce.length === 2, 'the reset socket to close');
    expect(atOnce).toEqual([true, true]);
    expect(releases.map(endingOf)).toEqual([
      ['finished', undefined],
      ['closed', 'reset'],
    ]);
    // Without a transport option, a socket is tracked as plain TCP.
    expect(releases.map((c) => c.transport)).toEqual(['tcp', 'tcp']);
  });
});

describe('tracking the same request, stream or socket twice gives the same handle and opens one connection', () => {
  it('HTTP/1: track(req, res) twice', async () => {
    const { registry } = recordingRegistry();
    const handles: Connection[][] = [];
    const server = http.createServer((req, res) => {
      handles.push([track(req, res, { registry }), track(req, res, { registry })]);
      res.end();
    });
    await get(await listen(server));
    expect(handles.length).toBe(1);
    expect(handles[0]![1]).toBe(handles[0]![0]);
    expect(registry.stats().opened).toBe(1);
  });

  it('HTTP/2: trackStream(stream) twice, and track(req, res) twice on the compat API', async () => {
    const { registry } = recordingRegistry();
    const handles: Connection[][] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      if (headers[':path'] !== '/core') return;
      handles.push([trackStream(stream, { registry }), trackStream(stream, { registry })]);
      stream.respond({ ':status': 204 }, { endStream: true });
    });
    server.on('request', (req, res) => {
      if (req.url === '/core') return;
      handles.push([track(req, res, { registry }), track(req, res, { registry })]);
      res.end();
    });
    const session = await h2connect(await listen(server));
    try {
      await h2request(session, { ':path': '/core' });
      await h2request(session, { ':path': '/compat' });
      expect(handles.length).toBe(2);
      for (const [first, second] of handles) expect(second).toBe(first);
      expect(registry.stats().opened).toBe(2);
    } finally {
      await h2close(session);
    }
  });

  it('HTTP/2 compat API: track(req, res) tracks the stream under them (transport http2, the same handle from the stream), released at its end', async () => {
    const { registry, releases } = recordingRegistry();
    const seen: { transport: string; fromStream: boolean }[] = [];
    const server = http2.createServer((req, res) => {
      const connection = track(req, res, { registry });
      seen.push({ transport: connection.transport, fromStream: connectionOf(req.stream) === connection });
      res.end('ok');
    });
    const session = await h2connect(await listen(server));
    try {
      await h2request(session, { ':path': '/compat' });
      await waitFor(() => releases.length === 1, 'the release');
      expect(seen).toEqual([{ transport: 'http2', fromStream: true }]);
      expect(releases.map((c) => [c.transport, c.outcome])).toEqual([['http2', 'finished']]);
    } finally {
      await h2close(session);
    }
  });

  it('an upgraded socket: trackSocket(socket) twice', async () => {
    const { registry } = recordingRegistry();
    const handles: Connection[][] = [];
    const server = http.createServer();
    server.on('upgrade', (_req, socket: Duplex) => {
      handles.push([trackSocket(socket, { registry }), trackSocket(socket, { registry })]);
      socket.on('error', () => {});
      socket.end(SWITCHING);
    });
    const client: Socket = await rawClient(await listen(server));
    client.write(UPGRADE_REQUEST);
    await waitFor(() => handles.length === 1, 'the upgrade');
    client.destroy();
    expect(handles[0]![1]).toBe(handles[0]![0]);
    expect(registry.stats().opened).toBe(1);
  });
});
