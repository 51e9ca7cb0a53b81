import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFile, type SendFileOptions, type SendResult } from '../src/index.js';
import { parseRange } from '../src/ranges.js';
import { descriptorsOpenOn } from '../src/testing/index.js';
import { request } from './helpers/client.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { startHttp1, startHttp2, waitFor, waitForReleases, type TestServer } from './helpers/server.js';

let dir: string;
let file: string;
const BODY = Buffer.from('0123456789abcdefghij'); // 20 bytes
const MTIME = new Date('2024-03-01T12:00:00.000Z');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-conditional-'));
  file = path.join(dir, 'data.txt');
  fs.writeFileSync(file, BODY);
  fs.utimesSync(file, MTIME, MTIME);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fileServer(options: SendFileOptions = {}) {
  const results: SendResult[] = [];
  const t = await startHttp1(async (_req, res) => {
    results.push(await sendFile(res, file, options));
  });
  return { t, results };
}

describe('sendFile conditional requests over a real 127.0.0.1 socket', () => {
  let t: TestServer<unknown>;
  let results: SendResult[];
  beforeAll(async () => {
    ({ t, results } = await fileServer());
  });
  afterAll(async () => {
    await (t as TestServer<never>).close();
  });

  it('sends a weak ETag from size and mtime, Last-Modified and Accept-Ranges with the file', async () => {
    const r = await request(t.port);
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`W/"14-${MTIME.getTime().toString(16)}"`);
    expect(r.headers['last-modified']).toBe(MTIME.toUTCString());
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.body).toEqual(BODY);
  });

  it('answers 304 with no body when If-None-Match lists the ETag (weak comparison), and the connection finishes', async () => {
    const { headers } = await request(t.port);
    // Every earlier connection released first, so the next release is the 304's own.
    await waitFor(() => t.registry.size === 0, 'earlier connections to be released');
    const before = t.releases.length;
    const r = await request(t.port, { headers: { 'if-none-match': `"other", ${String(headers.etag).slice(2)}` } });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
    expect(r.headers.etag).toBe(headers.etag);
    await waitForReleases(t as TestServer<never>, before + 1);
    expect(t.releases.at(-1)?.outcome).toBe('finished');
  });

  it('answers 200 when If-None-Match does not match, even with a fresh If-Modified-Since (If-None-Match decides)', async () => {
    const r = await request(t.port, { headers: { 'if-none-match': '"stale"', 'if-modified-since': new Date().toUTCString() } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(BODY);
  });

  it('answers 304 to If-Modified-Since at or after Last-Modified, and 200 to an earlier date', async () => {
    const same = await request(t.port, { headers: { 'if-modified-since': MTIME.toUTCString() } });
    const earlier = await request(t.port, { headers: { 'if-modified-since': new Date(MTIME.getTime() - 1_000).toUTCString() } });
    expect([same.status, earlier.status]).toEqual([304, 200]);
    expect(earlier.body).toEqual(BODY);
  });

  it('answers a single range with 206, Content-Range and exactly those bytes', async () => {
    const r = await request(t.port, { headers: { range: 'bytes=2-5' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe('bytes 2-5/20');
    expect(r.headers['content-length']).toBe('4');
    expect(r.body.toString()).toBe('2345');
    await waitFor(() => results.at(-1)?.status === 206, 'sendFile to settle');
    expect(results.at(-1)).toMatchObject({ status: 206, bytes: 4, outcome: 'finished' });
  });

  it('answers open-ended and suffix ranges with the file\'s tail', async () => {
    const open = await request(t.port, { headers: { range: 'bytes=15-' } });
    const suffix = await request(t.port, { headers: { range: 'bytes=-3' } });
    const past = await request(t.port, { headers: { range: 'bytes=18-99' } });
    expect([open.status, open.headers['content-range'], open.body.toString()]).toEqual([206, 'bytes 15-19/20', 'fghij']);
    expect([suffix.status, suffix.headers['content-range'], suffix.body.toString()]).toEqual([206, 'bytes 17-19/20', 'hij']);
    expect([past.status, past.headers['content-range'], past.body.toString()]).toEqual([206, 'bytes 18-19/20', 'ij']);
  });

  it('answers an unsatisfiable range with 416 and Content-Range: bytes */size', async () => {
    const r = await request(t.port, { headers: { range: 'bytes=20-30' } });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */20');
  });

  it('serves the whole file with 200 for several ranges, another unit, or an If-Range that no longer holds', async () => {
    const statuses = [];
    for (const headers of [{ range: 'bytes=0-1,4-5' }, { range: 'items=0-1' }, { range: 'bytes=0-1', 'if-range': new Date(MTIME.getTime() - 5_000).toUTCString() }]) {
      const r = await request(t.port, { headers });
      statuses.push([r.status, r.body.equals(BODY)]);
    }
    expect(statuses).toEqual([
      [200, true],
      [200, true],
      [200, true],
    ]);
  });

  it('honours a range whose If-Range date equals Last-Modified', async () => {
    const r = await request(t.port, { headers: { range: 'bytes=0-1', 'if-range': MTIME.toUTCString() } });
    expect([r.status, r.body.toString()]).toEqual([206, '01']);
  });

  it('answers HEAD with the headers of the GET (ranges too) and no body', async () => {
    const full = await request(t.port, { method: 'HEAD' });
    const ranged = await request(t.port, { method: 'HEAD', headers: { range: 'bytes=0-9' } });
    expect([full.status, full.headers['content-length'], full.body.length]).toEqual([200, '20', 0]);
    expect([ranged.status, ranged.headers['content-length'], ranged.headers['content-range'], ranged.body.length]).toEqual([206, '10', 'bytes 0-9/20', 0]);
  });

  it('closes the file after a 304, a 206 and a 416 alike', async () => {
    // Its own server: a call of an earlier test may still be settling on the shared one.
    const own = await fileServer();
    try {
      await request(own.t.port, { headers: { 'if-none-match': '*' } });
      await request(own.t.port, { headers: { range: 'bytes=0-3' } });
      await request(own.t.port, { headers: { range: 'bytes=99-' } });
      await waitFor(() => own.results.length === 3, 'three sendFile calls to settle');
      expect(own.results.map((r) => r.status)).toEqual([304, 206, 416]);
      await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
      expect(descriptorsOpenOn(file)).toBe(0);
    } finally {
      await own.t.close();
    }
  });

  it('ignores conditional and range headers on other methods', async () => {
    const r = await request(t.port, { method: 'POST', headers: { range: 'bytes=0-1', 'if-none-match': '*' } });
    expect([r.status, r.body.equals(BODY)]).toEqual([200, true]);
  });
});

describe('sendFile conditional requests over HTTP/2 (compat API)', () => {
  it('answers a range with 206 and If-None-Match with 304, and both streams finish', async () => {
    const t = await startHttp2({ request: (_req, res) => void sendFile(res, file) });
    const session = await h2connect(t.port);
    try {
      const ranged = await h2request(session, { range: 'bytes=10-14' });
      const fresh = await h2request(session, { 'if-none-match': String(ranged.headers.etag) });
      expect([ranged.status, ranged.headers['content-range'], ranged.body.toString()]).toEqual([206, 'bytes 10-14/20', 'abcde']);
      expect([fresh.status, fresh.body.length]).toEqual([304, 0]);
      await waitForReleases(t, 2);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished', 'finished']);
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});

describe('sendFile conditional options', () => {
  it('sends no ETag, Last-Modified or Accept-Ranges and serves Range requests whole when they are turned off', async () => {
    const { t } = await fileServer({ etag: false, lastModified: false, ranges: false });
    try {
      const r = await request(t.port, { headers: { range: 'bytes=0-1', 'if-modified-since': new Date().toUTCString() } });
      expect([r.status, r.headers.etag, r.headers['last-modified'], r.headers['accept-ranges'], r.body.equals(BODY)]).toEqual([200, undefined, undefined, undefined, true]);
    } finally {
      await t.close();
    }
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=3-', 10, { start: 3, end: 9 }],
    ['bytes=-4', 10, { start: 6, end: 9 }],
    ['bytes=-40', 10, { start: 0, end: 9 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=-0', 10, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=5-2', 10, undefined],
    ['bytes=0-1,3-4', 10, undefined],
    ['bytes=-', 10, undefined],
    ['chars=0-1', 10, undefined],
    [undefined, 10, undefined],
  ])('%j of a %i-byte file → %j', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
