import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { rawClient, waitFor } from './helpers/server.js';
import { nodeMajor, nodePaths } from './helpers/nodePaths.js';

// These tests record what plain node:http emits, with no Lifeline attached: they pin the
// per-version table in helpers/nodePaths.ts that the other tests and the README rely on.

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
let server: http.Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function listen(handler: http.RequestListener): Promise<number> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe(`raw node:http events that differ by Node major (running on ${nodeMajor})`, () => {
  it("a pipelined response queued when its socket dies: no event on 20 and 22, from 24 close, destroyed with Node's own ECONNRESET", async () => {
    const events: Record<string, string[]> = {};
    const port = await listen((req, res) => {
      const seen: string[] = (events[req.url!] = []);
      res.on('finish', () => seen.push('finish'));
      // The code of the error Node destroys the response with, if any (from 24, a queued one gets its own ECONNRESET).
      res.on('close', () => seen.push(`close:${(res.errored as { code?: string } | null)?.code}`));
      if (req.url !== '/head') res.end('queued'); // written to the queue, never sent: /head never answers
    });
    const c = await rawClient(port);
    c.write(GET('/head') + GET('/queued'));
    await waitFor(() => events['/queued'] !== undefined, 'both requests parsed');
    c.destroy();
    await waitFor(() => events['/head']!.length === 1, 'the head response closes');
    // Give a late close on the queued response every chance to arrive before reading it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events['/head']).toEqual(['close:undefined']);
    expect(events['/queued']).toEqual(nodePaths.queuedResponseGetsClose ? ['close:ECONNRESET'] : []);
  });

  it('a large response whose client resets: finish after ECONNRESET on 20 and 22, close only from 24', async () => {
    const seen: string[] = [];
    const port = await listen((req, res) => {
      res.on('finish', () => seen.push(`finish:${(req.socket.errored as { code?: string } | null)?.code}`));
      res.on('close', () => seen.push('close'));
      res.end(Buffer.alloc(8 * 1024 * 1024, 'x'));
    });
    const c = await rawClient(port);
    c.write(GET('/big'));
    await waitFor(() => c.received().length > 0, 'first bytes');
    c.resetAndDestroy();
    await waitFor(() => seen.includes('close'), 'close');
    expect(seen).toEqual(nodePaths.finishAfterReset ? ['finish:ECONNRESET', 'close'] : ['close']);
  });
});
