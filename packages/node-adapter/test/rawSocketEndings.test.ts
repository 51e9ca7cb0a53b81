// Who ended an upgraded (or CONNECT) socket first decides its outcome: our side ending it
// first and cleanly is `finished`, the peer leaving first is `closed`, and the application
// destroying it is `errored` with an error, `closed` (aborted) without one.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ReleasedConnection } from '@lifeline/core';
import { rawClient, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

const UPGRADE_REQUEST = 'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
/** More than loopback socket buffers hold, so our end cannot finish while the client does not read. */
const LAST_MESSAGE = Buffer.alloc(16 * 1024 * 1024, 'm');

const endingOf = (c: ReleasedConnection) => [c.outcome, (c.event as { reason?: string }).reason];

describe('an upgraded socket: who ended it first', () => {
  it("our end() came first but had not flushed when the peer's FIN arrived → finished", async () => {
    const order: string[] = [];
    const t = await startHttp1((_req, res) => res.end());
    t.server.on('upgrade', (_req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.on('end', () => order.push('peer-end'));
      socket.on('finish', () => order.push('our-finish'));
      socket.write(SWITCHING);
      socket.end(LAST_MESSAGE);
    });
    const client = await rawClient(t.port);
    try {
      client.write(UPGRADE_REQUEST);
      await waitFor(() => client.received().startsWith(SWITCHING), 'the 101');
      client.pause();
      client.end();
      await waitFor(() => order.includes('peer-end'), "the peer's FIN to reach the server");
      client.resume();
      await waitForReleases(t, 1, 10_000);
      await waitFor(() => client.closed, 'the client to read everything and close', 10_000);
      expect(order).toEqual(['peer-end', 'our-finish']);
      expect(client.received().length).toBe(SWITCHING.length + LAST_MESSAGE.length);
      expect(t.releases.map(endingOf)).toEqual([['finished', undefined]]);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it('the application destroys it with an error → errored (socket-error) with that error; without one → closed (aborted)', async () => {
    const t = await startHttp1((_req, res) => res.end());
    t.server.on('upgrade', (req, socket: Duplex) => {
      socket.on('error', () => {});
      socket.write(SWITCHING, () => {
        if (req.headers['x-ending'] === 'error') socket.destroy(new Error('protocol violation'));
        else socket.destroy();
      });
    });
    const clients: Socket[] = [];
    try {
      for (const ending of ['error', 'plain']) {
        const client = await rawClient(t.port);
        clients.push(client);
        client.write(UPGRADE_REQUEST.replace('\r\n\r\n', `\r\nX-Ending: ${ending}\r\n\r\n`));
        await waitForReleases(t, clients.length);
      }
      expect(t.releases.map(endingOf)).toEqual([
        ['errored', 'socket-error'],
        ['closed', 'aborted'],
      ]);
      expect(t.releases[0]!.event).toMatchObject({ error: { message: 'protocol violation' } });
    } finally {
      for (const client of clients) client.destroy();
      await t.close();
    }
  });
});
