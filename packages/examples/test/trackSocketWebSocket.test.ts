// What the adapter's trackSocket reports for the TCP socket under a ws 8 WebSocket, for each way
// the WebSocket can end: the rows of the root README's "What trackSocket reports for a WebSocket".
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createRegistry, type ReleasedConnection } from '@lifeline/core';
import { trackSocket } from '@lifeline/node-adapter';

type Ending = 'client closes' | 'client terminates' | 'server closes' | 'server terminates';

async function trackedEnding(ending: Ending): Promise<{ tcp: ReleasedConnection; closeCode: number }> {
  const registry = createRegistry();
  const released = new Promise<ReleasedConnection>((resolve) => registry.onRelease(resolve));
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const serverCloseCode = new Promise<number>((resolve) =>
    server.on('upgrade', (req, socket, head) => {
      trackSocket(socket, { registry, transport: 'websocket' });
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.once('close', resolve);
        if (ending === 'server closes') ws.close(1001);
        if (ending === 'server terminates') ws.terminate();
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  client.on('error', () => {});
  await new Promise((resolve) => client.once('open', resolve));
  if (ending === 'client closes') client.close(1000);
  if (ending === 'client terminates') client.terminate();
  const [tcp, closeCode] = await Promise.all([released, serverCloseCode]);
  await new Promise((resolve) => server.close(resolve));
  return { tcp, closeCode };
}

describe('trackSocket under a ws 8 WebSocket reports the TCP socket, not the WebSocket', () => {
  it.each([
    ['client closes', 'finished', { type: 'FINISH' }, 1000], // after the handshake the server ends TCP first
    ['server closes', 'finished', { type: 'FINISH' }, 1001],
    ['client terminates', 'closed', { type: 'CLOSE', reason: 'aborted' }, 1006], // the peer's FIN before our end
    ['server terminates', 'closed', { type: 'CLOSE', reason: 'aborted' }, 1006], // destroy() without an error: cut short
  ] as const)('%s: %s', async (ending, outcome, event, code) => {
    const { tcp, closeCode } = await trackedEnding(ending);
    expect([tcp.outcome, tcp.event, closeCode]).toEqual([outcome, event, code]);
  });
});
