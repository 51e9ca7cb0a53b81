// Answers the adapter writes or cuts on the application's behalf stay well-formed HTTP:
// a 503 carries no stale framing headers, a failed sendFile answers or cuts, web streams pipe.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pipeResponse, sendFile, track } from '../src/index.js';
import { get, rawClient, serversClosedAfterEach, waitFor, waitForReleases } from './helpers/server.js';

const { h1, closeAfter } = serversClosedAfterEach();

describe('answers that must stay well-formed', () => {
  it('fail() before headers drops headers the handler had set (a 503 must not carry its content-length)', async () => {
    const t = await h1((req, res) => {
      res.setHeader('content-length', 1000);
      res.setHeader('content-encoding', 'gzip');
      track(req, res, { registry: t.registry }).fail('timeout');
    });
    const r = await get(t.port);
    expect(r.status).toBe(503);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
    expect(r.headers['content-encoding']).toBeUndefined();
  });

  it('sendFile() with an invalid header value answers 500, closes the file and never rejects', async () => {
    let result: Awaited<ReturnType<typeof sendFile>> | undefined;
    const t = await h1(async (_req, res) => {
      result = await sendFile(res, new URL(import.meta.url).pathname, { headers: { 'x-bad': 'a\r\nb' } });
    });
    const r = await get(t.port);
    expect(r.status).toBe(500);
    await waitFor(() => result !== undefined, 'sendFile to resolve');
    expect(result!.error).toMatchObject({ code: 'ERR_INVALID_CHAR' });
    await waitForReleases(t, 1);
  });

  it('sendFile() on an untracked response whose headers were sent cuts it instead of leaving it hanging', async () => {
    const server = http.createServer(async (_req, res) => {
      res.writeHead(200);
      res.write('started');
      await sendFile(res, '/no/such/file');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closeAfter(() => new Promise((r) => server.close(() => r())));
    const c = await rawClient((server.address() as AddressInfo).port);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(c.received()).toMatch(/started/);
  });

  it('pipeResponse() accepts a web ReadableStream (a fetch body)', async () => {
    const t = await h1((_req, res) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('from the web'));
          controller.close();
        },
      });
      void pipeResponse(res, body);
    });
    expect((await get(t.port)).body).toBe('from the web');
    await waitForReleases(t, 1);
    expect(t.releases[0]!.outcome).toBe('finished');
  });
});
