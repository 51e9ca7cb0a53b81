import type http from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkNoLeaks } from '@lifeline/node-adapter/testing';
import onFinished, { inFlight } from '../src/index.js';

const CHUNK = Buffer.alloc(16 * 1024, 1);
const CHUNKS = 16;

/**
 * A body that trickles out (a chunk every 2 ms), like a file read from a slow disk: the response is still
 * in progress when a pipelining client dies, so the responses queued behind it are still queued. A body
 * written in one go would be in the socket's buffers before the server notices, and nothing would queue.
 */
function trickle(): Readable {
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  return new Readable({
    read() {
      if (sent === CHUNKS) return void this.push(null);
      sent++;
      timer = setTimeout(() => this.push(CHUNK), 2);
    },
    destroy(error, callback) {
      clearTimeout(timer);
      callback(error);
    },
  });
}

/**
 * A handler in send's style: the body is a stream piped into the response, and only an on-finished
 * callback destroys it. Pending listeners and undestroyed streams are the bookkeeping that must return to zero.
 */
function sendStyleHandler() {
  const pending = new Set<object>();
  let liveStreams = 0;
  let extraCalls = 0;
  const watch = (msg: http.IncomingMessage | http.ServerResponse, then?: () => void) => {
    pending.add(msg);
    onFinished(msg, () => {
      if (!pending.delete(msg)) extraCalls++;
      then?.();
    });
  };
  const handler: http.RequestListener = (req, res) => {
    watch(req);
    req.resume();
    if (!req.url?.startsWith('/file')) {
      watch(res);
      res.end('hello');
      return;
    }
    const body = trickle();
    liveStreams++;
    body.once('close', () => liveStreams--);
    watch(res, () => body.destroy());
    res.setHeader('content-length', CHUNKS * CHUNK.length);
    body.pipe(res);
  };
  return { handler, inFlight: () => pending.size + liveStreams, extraCalls: () => extraCalls };
}

describe('under fast-check-generated clients over real sockets', () => {
  it('every listener of every request and response is called exactly once, and every stream a listener frees is freed', async () => {
    const { handler, inFlight: held, extraCalls } = sendStyleHandler();
    // A time budget far above what 20 runs take (about 2 s on the 2-core VM): a loaded machine makes the runs slower,
    // never fewer, so the count below does not depend on speed.
    const report = await checkNoLeaks(handler, { inFlight: held, paths: ['/', '/file'], numRuns: 20, timeBudgetMs: 60_000 });
    expect(report.runs).toBe(20);
    expect(report.connections).toBeGreaterThan(0);
    expect(extraCalls()).toBe(0);
    expect(held()).toBe(0);
    // checkNoLeaks instruments its server: the drop-in used that registry's handles, never its own.
    expect(inFlight()).toBe(0);
  }, 120_000);
});
