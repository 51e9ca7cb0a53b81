import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeResponse, sendFile, type SendResult } from '../src/index.js';
import { descriptorsOpenOn } from '../src/testing/index.js';
import { request } from './helpers/client.js';
import { sleep, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

let dir: string;
const TEXT = 'hello file\n'.repeat(100);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-sendfile-'));
  fs.writeFileSync(path.join(dir, 'hello.txt'), TEXT);
  fs.writeFileSync(path.join(dir, 'empty.bin'), '');
  fs.mkdirSync(path.join(dir, 'sub'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh file of `size` bytes, for the tests that truncate or abort it. */
function bigFile(name: string, size: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.alloc(size, 0x61));
  return file;
}

describe('sendFile and pipeResponse over a real 127.0.0.1 socket', () => {
  it('serves a file with Content-Length and a Content-Type from its extension → finished', async () => {
    let result: SendResult | undefined;
    const t = await startHttp1(async (_req, res) => {
      result = await sendFile(res, path.join(dir, 'hello.txt'));
    });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      expect(r.headers['content-length']).toBe(String(TEXT.length));
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.body.toString()).toBe(TEXT);
      await waitForReleases(t, 1);
      await waitFor(() => result !== undefined, 'sendFile to resolve');
      expect(result).toMatchObject({ status: 200, bytes: TEXT.length, outcome: 'finished' });
      expect(result!.error).toBeUndefined();
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(t.registry.size).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('contentType and headers options are applied', async () => {
    const t = await startHttp1((_req, res) => {
      void sendFile(res, path.join(dir, 'hello.txt'), { contentType: 'application/x-test', headers: { 'cache-control': 'no-store' } });
    });
    try {
      const r = await request(t.port);
      expect(r.headers['content-type']).toBe('application/x-test');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.body.toString()).toBe(TEXT);
    } finally {
      await t.close();
    }
  });

  it('HEAD gets the headers (Content-Length of the file) and no body → finished', async () => {
    let result: SendResult | undefined;
    const t = await startHttp1(async (_req, res) => {
      result = await sendFile(res, path.join(dir, 'hello.txt'));
    });
    try {
      const r = await request(t.port, { method: 'HEAD' });
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(TEXT.length));
      expect(r.body.length).toBe(0);
      await waitForReleases(t, 1);
      await waitFor(() => result !== undefined, 'sendFile to resolve');
      expect(result).toMatchObject({ status: 200, bytes: 0 });
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    } finally {
      await t.close();
    }
  });

  it('an empty file is a 200 with Content-Length 0 → finished', async () => {
    const t = await startHttp1((_req, res) => void sendFile(res, path.join(dir, 'empty.bin')));
    try {
      const r = await request(t.port);
      expect(r).toMatchObject({ status: 200, complete: true });
      expect(r.headers['content-length']).toBe('0');
      expect(r.headers['content-type']).toBe('application/octet-stream');
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    } finally {
      await t.close();
    }
  });

  it('a missing file → 404, and the connection is finished (the 404 was delivered)', async () => {
    let result: SendResult | undefined;
    const t = await startHttp1(async (_req, res) => {
      result = await sendFile(res, path.join(dir, 'nope.txt'));
    });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(404);
      expect(r.body.toString()).toBe('Not Found\n');
      await waitForReleases(t, 1);
      await waitFor(() => result !== undefined, 'sendFile to resolve');
      expect(result!.status).toBe(404);
      expect(result!.error).toMatchObject({ code: 'ENOENT' });
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    } finally {
      await t.close();
    }
  });

  it('a directory → 404 (not a file)', async () => {
    let result: SendResult | undefined;
    const t = await startHttp1(async (_req, res) => {
      result = await sendFile(res, path.join(dir, 'sub'));
    });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(404);
      await waitForReleases(t, 1);
      await waitFor(() => result !== undefined, 'sendFile to resolve');
      expect(result!.error).toMatchObject({ code: 'EISDIR' });
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(descriptorsOpenOn(path.join(dir, 'sub'))).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('pipeResponse: a source that errors after N bytes → errored (stream-error) with its code; the client sees a truncated body', async () => {
    const N = 1000;
    let result: SendResult | undefined;
    const t = await startHttp1(async (_req, res) => {
      res.writeHead(200, { 'content-length': 10 * N });
      let sent = false;
      const source = new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(N, 0x62));
          } else {
            // Let the first N bytes reach the socket before failing.
            setTimeout(() => this.destroy(Object.assign(new Error('upstream broke'), { code: 'EBOOM' })), 20);
          }
        },
      });
      result = await pipeResponse(res, source);
    });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(200);
      expect(r.complete).toBe(false);
      expect(r.body.length).toBe(N);
      await waitForReleases(t, 1);
      await sleep(20);
      expect(t.releases.map((c) => c.outcome)).toEqual(['errored']);
      const event = t.releases[0]!.event;
      expect(event).toMatchObject({ type: 'ERROR', reason: 'stream-error', error: { code: 'EBOOM', message: 'upstream broke' } });
      await waitFor(() => result !== undefined, 'pipeResponse to resolve');
      expect(result).toMatchObject({ status: 200, bytes: N, outcome: 'errored', error: { code: 'EBOOM' } });
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('a file that shrinks while being served → errored (stream-error, LIFELINE_SHORT_READ); the client sees a truncated body', async () => {
    // Deterministic: the file is truncated when pipeResponse pipes the read stream, which it does once
    // the first read (64 KiB) is buffered and before the next is issued, so the second read hits EOF.
    const SIZE = 1024 * 1024;
    const file = bigFile('shrinks.bin', SIZE);
    let result: SendResult | undefined;
    let truncatedAt: number | undefined;
    const t = await startHttp1(async (_req, res) => {
      res.once('pipe', (source: Readable) => {
        truncatedAt = source.readableLength;
        fs.truncateSync(file, 1000);
      });
      result = await sendFile(res, file);
    });
    try {
      const r = await request(t.port);
      expect(truncatedAt).toBeDefined();
      expect(truncatedAt!).toBeLessThan(SIZE);
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(SIZE));
      expect(r.complete).toBe(false);
      expect(r.body.length).toBe(truncatedAt);
      await waitForReleases(t, 1);
      await sleep(20);
      expect(t.releases.map((c) => c.outcome)).toEqual(['errored']);
      expect(t.releases[0]!.event).toMatchObject({ type: 'ERROR', reason: 'stream-error', error: { code: 'LIFELINE_SHORT_READ' } });
      await waitFor(() => result !== undefined, 'sendFile to resolve');
      expect(result).toMatchObject({ bytes: truncatedAt, outcome: 'errored', error: { code: 'LIFELINE_SHORT_READ' } });
      expect(descriptorsOpenOn(file)).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('client aborts mid-file → closed; the file stream is destroyed and closed, sendFile resolves, no descriptor is left', async () => {
    const SIZE = 8 * 1024 * 1024;
    const file = bigFile('aborted.bin', SIZE);
    let result: SendResult | undefined;
    let source: Readable | undefined;
    const t = await startHttp1(async (_req, res) => {
      res.once('pipe', (s: Readable) => (source = s));
      result = await sendFile(res, file);
    });
    try {
      const r = await request(t.port, {
        onResponse: (res, req) => res.once('data', () => req.destroy()),
      });
      expect(r.status).toBe(200);
      expect(r.complete).toBe(false);
      await waitForReleases(t, 1);
      await waitFor(() => result !== undefined, 'sendFile to resolve');
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
      expect(t.releases[0]!.event.type).toBe('CLOSE');
      expect(result!.outcome).toBe('closed');
      expect(result!.bytes).toBeLessThan(SIZE);
      expect(source).toBeDefined();
      expect(source!.destroyed).toBe(true);
      await waitFor(() => source!.closed, 'the file stream to close');
      expect(descriptorsOpenOn(file)).toBe(0);
      expect(t.registry.size).toBe(0);
    } finally {
      await t.close();
    }
  });
});
