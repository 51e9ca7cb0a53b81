import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, startHttp1, waitForReleases, type TestServer } from './helpers/server.js';

// Endings the client causes are `closed`, never `errored`: the errored count is the server's
// failures, and a client that leaves or misbehaves must not inflate it.

let t: TestServer<http.Server> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A handler reading an upload that never answers before the body is complete. */
const readsUpload: http.RequestListener = (req, res) => {
  req.resume();
  req.on('end', () => res.end('got it'));
};

const UPLOAD_HEAD = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n';

describe('a client that leaves or misbehaves while sending its request', () => {
  it('leaving mid-upload with a FIN (Node: HPE_INVALID_EOF_STATE) → closed (aborted)', async () => {
    t = await startHttp1(readsUpload);
    const c = await rawClient(t.port);
    c.write(UPLOAD_HEAD + 'x'.repeat(1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.end();
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'aborted' } });
  });

  it('leaving mid-upload with a RST → closed (reset)', async () => {
    t = await startHttp1(readsUpload);
    const c = await rawClient(t.port);
    c.write(UPLOAD_HEAD + 'x'.repeat(1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.resetAndDestroy();
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'reset' } });
  });

  it('a malformed chunked body (Node answers 400 and cuts the socket) → closed (bad-request) with the parser code', async () => {
    t = await startHttp1(readsUpload);
    const c = await rawClient(t.port);
    c.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
    await waitForReleases(t, 1);
    c.destroy();
    expect(t.releases[0]).toMatchObject({
      outcome: 'closed',
      event: { type: 'CLOSE', reason: 'bad-request', code: 'HPE_INVALID_CHUNK_SIZE' },
    });
    expect(t.registry.stats().released.errored).toBe(0);
  });

  it('the same with an application clientError listener that answers 400 itself → closed (bad-request)', async () => {
    t = await startHttp1(readsUpload);
    t.server.on('clientError', (_error, socket) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
    const c = await rawClient(t.port);
    c.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
    await waitForReleases(t, 1);
    c.destroy();
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'bad-request', code: 'HPE_INVALID_CHUNK_SIZE' } });
  });
});
