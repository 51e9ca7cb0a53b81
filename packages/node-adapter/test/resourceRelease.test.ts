import fs from 'node:fs';
import type http from 'node:http';
import type http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf, drain, pipeResponse, sendFile, startWatchdog, type SendResult } from '../src/index.js';
import { descriptorsOpenOn, rawRequest } from '../src/testing/index.js';
import { h2close, h2connect } from './helpers/h2.js';
import { rawClient, startHttp1, startHttp2, waitFor, type TestServer } from './helpers/server.js';

// Everything sendFile / pipeResponse open for a connection (the file's descriptor, the read
// stream) is released however the connection ends, and the promise settles with its outcome:
// the original bug's class (a file stream left open when the response ended otherwise).

const FILE_SIZE = 5 * 1024 * 1024;
let dir: string;
let file: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-release-'));
  file = path.join(dir, 'five-megabytes.bin');
  fs.writeFileSync(file, Buffer.alloc(FILE_SIZE, 0x61));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let t: TestServer<http.Server> | TestServer<http2.Http2Server> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A client that sends `count` pipelined GETs on one socket and destroys it after `leaveAfter` bytes. */
async function pipelinedClientLeaving(port: number, count: number, leaveAfter: number): Promise<void> {
  const c = await rawClient(port);
  const payload = Array.from({ length: count }, (_, k) => rawRequest(`/f${k}`, k === count - 1)).join('');
  await new Promise<void>((resolve) => {
    c.on('close', () => resolve());
    c.on('data', () => {
      if (c.received().length >= leaveAfter) c.destroy();
    });
    c.write(payload);
  });
}

describe('sendFile releases the file on every ending', () => {
  for (const perSocket of [2, 3]) {
    it(`10 sockets × ${perSocket} pipelined GETs of a 5 MB file, each socket destroyed after 100 KB: every promise settles closed, no descriptor stays open`, async () => {
      const results: SendResult[] = [];
      t = await startHttp1(async (_req, res) => {
        results.push(await sendFile(res, file));
      });
      const server = t;
      await Promise.all(Array.from({ length: 10 }, () => pipelinedClientLeaving(server.port, perSocket, 100 * 1024)));
      await waitFor(() => server.registry.stats().opened === 10 * perSocket && server.registry.size === 0, 'every request released');
      await waitFor(() => results.length === 10 * perSocket, `all ${10 * perSocket} sendFile promises to settle (settled: ${results.length})`);
      await waitFor(() => descriptorsOpenOn(file) === 0, `descriptors of the served file to close (open: ${descriptorsOpenOn(file)})`);
      expect(server.registry.stats().released).toEqual({ finished: 0, closed: 10 * perSocket, errored: 0 });
      expect(results.map((r) => r.outcome)).toEqual(Array(10 * perSocket).fill('closed'));
    }, 30_000);
  }

  it('connection.fail() mid-file (what the watchdog and drain do): the promise settles errored, the file is closed', async () => {
    const results: SendResult[] = [];
    t = await startHttp1(async (req, res) => {
      const pending = sendFile(res, file);
      setTimeout(() => connectionOf(req)!.fail('timeout'), 20);
      results.push(await pending);
    });
    const c = await rawClient(t.port);
    c.pause(); // a reader that stalls: the response cannot complete on its own
    c.write(rawRequest('/', true));
    await waitFor(() => results.length === 1, 'sendFile to settle');
    c.destroy();
    expect(results[0]!.outcome).toBe('errored');
    await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
  });

  it('the watchdog ending a stalled download: the promise settles errored (timeout), the file is closed', async () => {
    const results: SendResult[] = [];
    t = await startHttp1(async (_req, res) => {
      results.push(await sendFile(res, file));
    });
    const watchdog = startWatchdog(t.registry, { maxAge: 100, interval: 20 });
    try {
      const c = await rawClient(t.port);
      c.pause();
      c.write(rawRequest('/', true));
      await waitFor(() => results.length === 1, 'sendFile to settle');
      c.destroy();
    } finally {
      watchdog.stop();
    }
    expect(results[0]).toMatchObject({ outcome: 'errored' });
    expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
    await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
  });

  it('drain at its deadline with a download stalled on a pipelined queue: the queued sendFile settles, the file is closed', async () => {
    const results: SendResult[] = [];
    t = await startHttp1(async (req, res) => {
      if (req.url === '/hang') return; // the head of the queue never answers
      results.push(await sendFile(res, file));
    });
    const c = await rawClient(t.port);
    c.write(rawRequest('/hang', false) + rawRequest('/file', true));
    const server = t;
    await waitFor(() => server.registry.size === 2, 'both requests');
    const result = await drain(server.registry, { deadline: 50 });
    c.destroy();
    expect(result.forced).toBe(2);
    await waitFor(() => results.length === 1, 'the queued sendFile to settle');
    expect(results[0]!.outcome).toBe('errored');
    await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
  });

  it('HTTP/2: a client that cancels the stream, or destroys its session, mid-file: settles closed, the file is closed', async () => {
    const results: SendResult[] = [];
    t = await startHttp2({
      request: async (_req, res) => {
        results.push(await sendFile(res, file));
      },
    });
    const session = await h2connect(t.port);
    const cancelled = session.request({ ':path': '/cancel' });
    cancelled.on('error', () => {});
    await new Promise((resolve) => cancelled.once('data', resolve));
    cancelled.close(0x8); // RST_STREAM CANCEL
    await waitFor(() => results.length === 1, 'the cancelled stream to settle');
    const second = session.request({ ':path': '/session' });
    second.on('error', () => {});
    await new Promise((resolve) => second.once('data', resolve));
    await h2close(session);
    await waitFor(() => results.length === 2, 'the stream of the destroyed session to settle');
    expect(results.map((r) => r.outcome)).toEqual(['closed', 'closed']);
    await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
  });

  it('pipeResponse destroys its source when the connection ends before the source does', async () => {
    const destroyed: boolean[] = [];
    t = await startHttp1(async (req, res) => {
      if (req.url === '/hang') return;
      const source = fs.createReadStream(file);
      const result = await pipeResponse(res, source);
      destroyed.push(source.destroyed && result.outcome === 'closed');
    });
    const c = await rawClient(t.port);
    c.write(rawRequest('/hang', false) + rawRequest('/a', false) + rawRequest('/b', true));
    const server = t;
    await waitFor(() => server.registry.stats().opened === 3, 'three requests');
    c.destroy();
    await waitFor(() => destroyed.length === 2, 'both queued pipeResponse calls to settle');
    expect(destroyed).toEqual([true, true]);
    await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
  });
});

describe('pipeResponse on a response nobody tracks', () => {
  it('a queued pipelined response whose socket dies: the source is destroyed and the call settles', async () => {
    const { createServer } = await import('node:http');
    const settled: SendResult[] = [];
    const sources: fs.ReadStream[] = [];
    const server = createServer(async (req, res) => {
      if (req.url === '/hang') return;
      const source = fs.createReadStream(file);
      sources.push(source);
      settled.push(await pipeResponse(res, source));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const c = await rawClient((server.address() as import('node:net').AddressInfo).port);
      c.write(rawRequest('/hang', false) + rawRequest('/a', false) + rawRequest('/b', true));
      await waitFor(() => sources.length === 2, 'both queued requests to reach the handler');
      c.destroy();
      await waitFor(() => settled.length === 2, 'both pipeResponse calls to settle');
      expect(sources.every((s) => s.destroyed)).toBe(true);
      expect(settled.map((r) => r.outcome)).toEqual([undefined, undefined]); // untracked: no outcome to report
      await waitFor(() => descriptorsOpenOn(file) === 0, 'the file to be closed');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
