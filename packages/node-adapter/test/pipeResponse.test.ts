// pipeResponse's own contract over real 127.0.0.1 sockets: what the result says on each ending, that the
// source is destroyed and no listener stays behind, that an untracked response never makes a stream listener
// throw, and when body progress reaches the registry (the watchdog's idle clock).
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pipeResponse, type SendResult } from '../src/index.js';
import { rawRequest } from '../src/testing/index.js';
import { request } from './helpers/client.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { rawClient, serversClosedAfterEach, startHttp2, waitFor } from './helpers/server.js';

const { h1, closeAfter } = serversClosedAfterEach();

/** A plain node:http server nobody instruments, closed after the test. */
async function untracked(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfter(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** Collects uncaught exceptions while `body` runs: a throw from a stream listener would crash a server. */
async function collectingUncaught(body: () => Promise<void>): Promise<unknown[]> {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.prependListener('uncaughtException', onUncaught);
  try {
    await body();
  } finally {
    process.removeListener('uncaughtException', onUncaught);
  }
  return uncaught;
}

/** A source the test feeds by hand: nothing arrives until `push`. */
const manualSource = () => new Readable({ read() {} });

describe('pipeResponse options', () => {
  it('null options mean none, and expectedBytes 0 accepts an empty body: both finish without an error', async () => {
    const results: (SendResult | Error)[] = [];
    const t = await h1(async (req, res) => {
      const call = req.url === '/empty' ? pipeResponse(res, Readable.from([]), { expectedBytes: 0 }) : pipeResponse(res, Readable.from([Buffer.from('abc')]), null as never);
      results.push(await call.catch((error: Error) => error));
    });
    const empty = await request(t.port, { path: '/empty' });
    const body = await request(t.port, { path: '/null' });
    await waitFor(() => results.length === 2, 'both calls to settle');
    expect([empty.complete, empty.body.length, body.complete, body.body.toString()]).toEqual([true, 0, true, 'abc']);
    expect(results).toEqual([
      { status: 200, bytes: 0, outcome: 'finished' },
      { status: 200, bytes: 3, outcome: 'finished' },
    ]);
  });
});

describe('pipeResponse of a source that has already ended', () => {
  it('a source read to its end before the call: an empty 200, finished, no error', async () => {
    let result: SendResult | undefined;
    const t = await h1(async (_req, res) => {
      const source = Readable.from([]);
      source.resume();
      await new Promise((resolve) => source.once('close', resolve));
      result = await pipeResponse(res, source);
    });
    const r = await request(t.port);
    await waitFor(() => result !== undefined, 'pipeResponse to settle');
    expect([r.status, r.complete, r.body.length]).toEqual([200, true, 0]);
    expect(result).toEqual({ status: 200, bytes: 0, outcome: 'finished' });
  });
});

describe('pipeResponse endings', () => {
  it('a response someone else ends while the source stalls: finished, the error says the source was cut (premature close), the source is destroyed', async () => {
    // pipeline's own verdict: the destination closed before the source ended. The connection did finish
    // (the client got a whole response), so only the result's error tells the caller its source was cut.
    let result: SendResult | undefined;
    let source: Readable | undefined;
    const t = await h1(async (_req, res) => {
      source = manualSource();
      const pending = pipeResponse(res, source);
      setImmediate(() => res.end('answered elsewhere'));
      result = await pending;
    });
    const r = await request(t.port);
    await waitFor(() => result !== undefined, 'pipeResponse to settle');
    expect([r.status, r.complete, r.body.toString()]).toEqual([200, true, 'answered elsewhere']);
    expect(result).toMatchObject({ outcome: 'finished', bytes: 0, error: { code: 'ERR_STREAM_PREMATURE_CLOSE' } });
    expect(source!.destroyed).toBe(true);
  });

  it('a queued pipelined response whose source has already ended settles when its socket dies, tracked (closed) or not (no outcome)', async () => {
    // Node 20 and 22 give a queued response no event of its own when its socket dies, so pipeline never
    // calls back: the call must settle from the connection's end (or the socket's close) seeing the source
    // already closed, since no further 'close' will come from it.
    for (const serve of [h1, untracked]) {
      const settled: SendResult[] = [];
      let sourceClosed = false;
      const served = await serve(async (req, res) => {
        if (req.url === '/hang') return;
        const source = Readable.from([Buffer.from('small body')]);
        source.once('close', () => (sourceClosed = true));
        settled.push(await pipeResponse(res, source));
      });
      const port = typeof served === 'number' ? served : served.port;
      const c = await rawClient(port);
      c.write(rawRequest('/hang', false) + rawRequest('/queued', true));
      await waitFor(() => sourceClosed, 'the queued response\'s source to end and close');
      const beforeSocketDied = settled.length;
      c.destroy();
      await waitFor(() => settled.length === 1, `pipeResponse to settle (${typeof served === 'number' ? 'untracked' : 'tracked'})`);
      expect(beforeSocketDied).toBe(0);
      expect(settled[0]).toMatchObject({ bytes: 10, outcome: typeof served === 'number' ? undefined : 'closed' });
    }
  });

  it('expectedBytes: a source that ends short is cut, never completed: no last chunk over HTTP/1 (chunked), a reset over HTTP/2', async () => {
    // Without a Content-Length only the framing tells a client the body is whole: an HTTP/1 chunked body is
    // whole once its terminating chunk arrives, an HTTP/2 one once END_STREAM does. A short source must
    // send neither.
    const shortSource = () => {
      const source = manualSource();
      source.push(Buffer.alloc(100, 0x61));
      setImmediate(() => source.push(null));
      return source;
    };
    const results: SendResult[] = [];
    const t1 = await h1(async (_req, res) => {
      results.push(await pipeResponse(res, shortSource(), { expectedBytes: 200 }));
    });
    const t2 = await startHttp2({
      request: async (_req, res) => {
        results.push(await pipeResponse(res, shortSource(), { expectedBytes: 200 }));
      },
    });
    closeAfter(t2.close);
    const overHttp1 = await request(t1.port);
    const session = await h2connect(t2.port);
    const overHttp2 = await h2request(session);
    await h2close(session);
    await waitFor(() => results.length === 2, 'both calls to settle');
    expect([overHttp1.status, overHttp1.headers['transfer-encoding'], overHttp1.body.length, overHttp1.complete]).toEqual([200, 'chunked', 100, false]);
    expect(overHttp2).toMatchObject({ status: 200, ended: false, rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR });
    expect(overHttp2.body.length).toBe(100);
    for (const t of [t1, t2]) expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'stream-error', error: { code: 'LIFELINE_SHORT_READ' } } });
    expect(results).toMatchObject([
      { bytes: 100, outcome: 'errored', error: { code: 'LIFELINE_SHORT_READ' } },
      { bytes: 100, outcome: 'errored', error: { code: 'LIFELINE_SHORT_READ' } },
    ]);
  });

  it('untracked: a client that leaves mid-body shows in the result as a premature close, and the source is destroyed', async () => {
    // With no connection to carry an outcome, the result's error is the caller's only sign the client left.
    let result: SendResult | undefined;
    let source: Readable | undefined;
    const port = await untracked(async (_req, res) => {
      res.writeHead(200);
      source = manualSource();
      source.push(Buffer.alloc(1000, 0x61));
      result = await pipeResponse(res, source);
    });
    const c = await rawClient(port);
    c.write(rawRequest('/', false));
    await waitFor(() => c.received().length > 1000, 'the first chunk');
    c.destroy();
    await waitFor(() => result !== undefined, 'pipeResponse to settle');
    expect(result).toMatchObject({ status: 200, bytes: 1000, outcome: undefined, error: { code: 'ERR_STREAM_PREMATURE_CLOSE' } });
    expect(source!.destroyed).toBe(true);
  });

  it('untracked: a source that errors, and one that ends short of expectedBytes, each after a progress step (256 KiB), settle with their error and nothing throws', async () => {
    // A step is where a tracked response records progress: with no connection there is nothing to record to.
    const STEP = 256 * 1024;
    const results: SendResult[] = [];
    const uncaught = await collectingUncaught(async () => {
      const port = await untracked(async (req, res) => {
        res.writeHead(200, { 'content-length': STEP + 10 });
        const source = manualSource();
        source.push(Buffer.alloc(STEP, 0x61));
        if (req.url === '/error') setImmediate(() => source.destroy(Object.assign(new Error('upstream broke'), { code: 'EUPSTREAM' })));
        else source.push(null);
        results.push(await pipeResponse(res, source, req.url === '/short' ? { expectedBytes: STEP + 10 } : {}));
      });
      const broken = await request(port, { path: '/error' });
      const short = await request(port, { path: '/short' });
      expect([broken.complete, short.complete, short.body.length <= STEP]).toEqual([false, false, true]);
      await waitFor(() => results.length === 2, 'both calls to settle');
    });
    expect(uncaught).toEqual([]);
    expect(results[0]).toMatchObject({ bytes: STEP, outcome: undefined, error: { code: 'EUPSTREAM' } });
    expect(results[1]).toMatchObject({ bytes: STEP, outcome: undefined, error: { code: 'LIFELINE_SHORT_READ' } });
    // The message carries both counts: how far the source got, and what it announced.
    expect(results[1]!.error!.message).toMatch(new RegExp(`\\b${STEP}\\b.*\\b${STEP + 10}\\b`));
  });
});

describe('pipeResponse when the source fails before anything was sent: a complete 500, as fail() answers', () => {
  const upstreamError = () => Object.assign(new Error('upstream broke'), { code: 'EUPSTREAM' });
  /** The three sources that fail before their first chunk, by request path; the last with its expectedBytes. */
  const failingSource = (path: string | undefined): [Readable, { expectedBytes?: number }] => {
    const source = manualSource();
    if (path === '/destroyed-before') source.destroy(upstreamError());
    else if (path === '/errors') setImmediate(() => source.destroy(upstreamError()));
    else setImmediate(() => source.push(null)); // /empty-short: ends without a byte of the 10 announced
    return [source, path === '/empty-short' ? { expectedBytes: 10 } : {}];
  };
  const paths = ['/errors', '/destroyed-before', '/empty-short'];
  const codes = ['EUPSTREAM', 'EUPSTREAM', 'LIFELINE_SHORT_READ'];

  it('tracked, over HTTP/1 to a keep-alive client and over HTTP/2: the client reads a whole 500, the result says 500 with the error, the connection ends errored (stream-error)', async () => {
    const results = new Map<string, SendResult>();
    const t1 = await h1(async (req, res) => {
      results.set(`h1 ${req.url}`, await pipeResponse(res, ...failingSource(req.url)));
    });
    const t2 = await startHttp2({
      request: async (req, res) => {
        results.set(`h2 ${req.url}`, await pipeResponse(res, ...failingSource(req.url)));
      },
    });
    closeAfter(t2.close);
    const agent = new http.Agent({ keepAlive: true });
    closeAfter(async () => agent.destroy());
    const overHttp1 = [];
    for (const path of paths) overHttp1.push(await request(t1.port, { path, agent }));
    const session = await h2connect(t2.port);
    const overHttp2 = await Promise.all(paths.map((path) => h2request(session, { ':path': path })));
    await h2close(session);
    await waitFor(() => results.size === 6, 'every call to settle');
    // fail()'s answer: a plain 500 with its length, and Connection: close (the socket may not be reused).
    expect(overHttp1.map((r) => [r.status, r.body.toString(), r.complete, r.headers.connection])).toEqual(paths.map(() => [500, 'Internal Server Error\n', true, 'close']));
    expect(overHttp2.map((r) => [r.status, r.ended, r.rstCode])).toEqual(paths.map(() => [500, true, http2.constants.NGHTTP2_NO_ERROR]));
    for (const [i, path] of paths.entries()) {
      for (const transport of ['h1', 'h2']) {
        expect(results.get(`${transport} ${path}`), `${transport} ${path}`).toMatchObject({ status: 500, bytes: 0, outcome: 'errored', error: { code: codes[i] } });
      }
    }
    for (const t of [t1, t2]) {
      expect(t.releases.map((c) => [c.outcome, c.event])).toMatchObject(codes.map((code) => ['errored', { reason: 'stream-error', error: { code } }]));
    }
  });

  it('untracked: the client reads a whole 500 on a connection kept alive, the result says 500 with the error and no outcome', async () => {
    const results = new Map<string, SendResult>();
    const port = await untracked(async (req, res) => {
      results.set(req.url!, await pipeResponse(res, ...failingSource(req.url)));
    });
    const c = await rawClient(port);
    c.write(paths.map((path) => rawRequest(path, false)).join(''));
    // Three complete answers on one socket: each 500 was whole, or the next could not be read after it.
    await waitFor(() => c.received().split('Internal Server Error\n').length === 4, 'three 500 answers');
    expect(c.received().match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 500', 'HTTP/1.1 500', 'HTTP/1.1 500']);
    c.destroy();
    await waitFor(() => results.size === 3, 'every call to settle');
    expect(paths.map((path) => results.get(path))).toMatchObject(codes.map((code) => ({ status: 500, bytes: 0, outcome: undefined, error: { code } })));
  });

  it('once something was sent the response is cut, never answered 500: a source that errors after its first chunk (a turn later, or on the next tick), and one that errors before it but after the handler sent the head', async () => {
    const results = new Map<string, SendResult>();
    const serve = async (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse, transport: string) => {
      const source = manualSource();
      if (req.url === '/head-sent') {
        // On the wire, not only in res.headersSent (Http2ServerResponse has flushHeaders too, untyped).
        (res.writeHead(200) as http.ServerResponse).flushHeaders();
        setImmediate(() => source.destroy(upstreamError()));
      } else if (req.url === '/emits-error') {
        // A stream that emits 'error' itself, without destroy(), on the tick after its first chunk is
        // readable: the chunk is written in the turn pipeResponse sees it, so this error comes after it.
        const pending = pipeResponse(res, source);
        source.push(Buffer.alloc(100, 0x61));
        process.nextTick(() => source.emit('error', upstreamError()));
        results.set(`${transport} ${req.url}`, await pending);
        return;
      } else {
        source.push(Buffer.alloc(100, 0x61));
        // A turn after the first chunk was read: it has been written to the response by then.
        source.once('data', () => setImmediate(() => source.destroy(upstreamError())));
      }
      results.set(`${transport} ${req.url}`, await pipeResponse(res, source));
    };
    const t1 = await h1((req, res) => serve(req, res, 'h1'));
    const t2 = await startHttp2({ request: (req, res) => serve(req, res, 'h2') });
    closeAfter(t2.close);
    const firstChunk = await request(t1.port, { path: '/first-chunk' });
    const headSent = await request(t1.port, { path: '/head-sent' });
    const emitsError = await request(t1.port, { path: '/emits-error' });
    const session = await h2connect(t2.port);
    const overHttp2 = await Promise.all(['/first-chunk', '/head-sent', '/emits-error'].map((path) => h2request(session, { ':path': path })));
    await h2close(session);
    await waitFor(() => results.size === 6, 'every call to settle');
    expect([firstChunk.status, firstChunk.body.length, firstChunk.complete]).toEqual([200, 100, false]);
    expect([headSent.status, headSent.body.length, headSent.complete]).toEqual([200, 0, false]);
    // Cut in the turn its chunk was written: what reached the client before the cut varies, never a 500.
    expect([emitsError.status === 500, emitsError.complete]).toEqual([false, false]);
    expect(overHttp2.map((r) => [r.status === 500, r.ended, r.rstCode])).toEqual([0, 1, 2].map(() => [false, false, http2.constants.NGHTTP2_INTERNAL_ERROR]));
    expect(overHttp2.slice(0, 2).map((r) => [r.status, r.body.length])).toEqual([
      [200, 100],
      [200, 0],
    ]);
    for (const transport of ['h1', 'h2']) {
      expect(results.get(`${transport} /first-chunk`)).toMatchObject({ status: 200, bytes: 100, outcome: 'errored', error: { code: 'EUPSTREAM' } });
      expect(results.get(`${transport} /head-sent`)).toMatchObject({ status: 200, bytes: 0, outcome: 'errored', error: { code: 'EUPSTREAM' } });
      expect(results.get(`${transport} /emits-error`)).toMatchObject({ status: 200, bytes: 100, outcome: 'errored', error: { code: 'EUPSTREAM' } });
    }
    for (const t of [t1, t2]) expect(t.releases.map((c) => c.event)).toMatchObject([0, 1, 2].map(() => ({ reason: 'stream-error', error: { code: 'EUPSTREAM' } })));
  });
});

describe('pipeResponse leaves nothing behind', () => {
  it('untracked, HTTP/1 and HTTP/2: a client that leaves before the source\'s first chunk shows as a premature close, the source is destroyed, nothing throws', async () => {
    const results: SendResult[] = [];
    const sources: Readable[] = [];
    const serve = async (_req: unknown, res: http.ServerResponse | http2.Http2ServerResponse) => {
      const source = manualSource();
      sources.push(source);
      results.push(await pipeResponse(res, source));
    };
    const uncaught = await collectingUncaught(async () => {
      const port = await untracked(serve);
      const server2 = http2.createServer(serve);
      await new Promise<void>((resolve) => server2.listen(0, '127.0.0.1', resolve));
      closeAfter(() => new Promise<void>((resolve) => server2.close(() => resolve())));
      const c = await rawClient(port);
      c.write(rawRequest('/', false));
      await waitFor(() => sources.length === 1, 'the HTTP/1 handler');
      c.destroy();
      const session = await h2connect((server2.address() as AddressInfo).port);
      const stream = session.request({ ':path': '/' });
      stream.on('error', () => {});
      await waitFor(() => sources.length === 2, 'the HTTP/2 handler');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await waitFor(() => results.length === 2, 'both calls to settle');
      await h2close(session);
    });
    expect(uncaught).toEqual([]);
    expect(results).toMatchObject([0, 1].map(() => ({ status: 200, bytes: 0, outcome: undefined, error: { code: 'ERR_STREAM_PREMATURE_CLOSE' } })));
    expect(sources.map((source) => source.destroyed)).toEqual([true, true]);
  });

  it('untracked: a queued pipelined response whose source has sent nothing settles when its socket dies, with no error and not answered 500', async () => {
    // Its socket's death stops the call: the source it then destroys is no failure of the source's own.
    let result: SendResult | undefined;
    let source: Readable | undefined;
    const port = await untracked(async (req, res) => {
      if (req.url === '/hang') return;
      source = manualSource();
      result = await pipeResponse(res, source);
    });
    const c = await rawClient(port);
    c.write(rawRequest('/hang', false) + rawRequest('/queued', true));
    await waitFor(() => source !== undefined, 'the queued handler');
    c.destroy();
    await waitFor(() => result !== undefined, 'pipeResponse to settle');
    expect(result).toEqual({ status: 200, bytes: 0, outcome: undefined });
    expect(source!.destroyed).toBe(true);
  });

  it('untracked: a queued pipelined response that finishes leaves no close listener on its (kept-alive) socket', async () => {
    let releaseFirst: () => void = () => {};
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    let before: unknown[] = [];
    let added: unknown[] | undefined;
    let result: SendResult | undefined;
    const port = await untracked(async (req, res) => {
      if (req.url === '/first') {
        await firstMayEnd;
        res.end('first');
        return;
      }
      const socket = req.socket;
      before = socket.listeners('close');
      const pending = pipeResponse(res, Readable.from([Buffer.from('second')]));
      releaseFirst();
      result = await pending;
      // Node's own per-response listener is one shared function: anything new is someone else's.
      added = socket.listeners('close').filter((listener) => !before.includes(listener));
    });
    const c = await rawClient(port);
    c.write(rawRequest('/first', false) + rawRequest('/second', false));
    await waitFor(() => result !== undefined, 'the queued call to settle');
    await waitFor(() => c.received().includes('second'), 'the second response to arrive');
    expect(result).toMatchObject({ bytes: 6, outcome: undefined });
    expect(result!.error).toBeUndefined();
    expect(added).toEqual([]);
    c.destroy();
  });

  it('untracked: no listener of its own stays on the response or the source once it settles, when the source failed before its first chunk or the client left before it', async () => {
    // (Once piping, pipeline's own listeners stay on the response until it closes, as Node's do.)
    const left = new Map<string, number[]>();
    let handling = false;
    const port = await untracked(async (req, res) => {
      const before = res.listenerCount('close');
      const source = manualSource();
      if (req.url === '/fails') setImmediate(() => source.destroy(new Error('upstream broke')));
      handling = true;
      await pipeResponse(res, source);
      left.set(req.url!, [res.listenerCount('close') - before, source.listenerCount('readable')]);
    });
    await request(port, { path: '/fails' });
    handling = false;
    const c = await rawClient(port);
    c.write(rawRequest('/gone', false));
    await waitFor(() => handling, 'the handler');
    c.destroy();
    await waitFor(() => left.size === 2, 'both calls to settle');
    expect(Object.fromEntries(left)).toEqual({ '/fails': [0, 0], '/gone': [0, 0] });
  });

  it('writes into a response-like test double with no req or socket, and resolves', async () => {
    // isResponse accepts any object with setHeader/write/end/on; such a double must not make the call reject.
    for (const extra of [{}, { socket: null }, { socket: null, req: {} }]) {
      const chunks: string[] = [];
      const double = Object.assign(
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            chunks.push(chunk.toString());
            callback();
          },
        }),
        { statusCode: 200, setHeader() {} },
        extra,
      );
      const result = await pipeResponse(double as never, Readable.from([Buffer.from('to a double')]));
      expect(result).toEqual({ status: 200, bytes: 11, outcome: undefined });
      expect(chunks.join('')).toBe('to a double');
    }
  });
});

describe('pipeResponse progress reaches the registry every 256 KiB or every 250 ms', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a chunk is recorded only once 256 KiB (exactly) or 250 ms (exactly) have passed since the last record', async () => {
    // Only Date is faked: sockets and timers run, and the clock moves only when the test says so.
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    let source: Readable | undefined;
    let seen = 0;
    const t = await h1((_req, res) => {
      res.writeHead(200);
      source = manualSource();
      void pipeResponse(res, source);
      source.on('data', () => seen++); // after pipeResponse's own listener
    });
    const response = request(t.port);
    const until = async (condition: () => boolean, what: string) => {
      for (let i = 0; !condition(); i++) {
        if (i > 1_000) throw new Error(`gave up waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await until(() => source !== undefined, 'the handler');
    const recorded: (number | undefined)[] = [];
    const feed = async (bytes: number) => {
      const before = seen;
      source!.push(Buffer.alloc(bytes, 0x61));
      await until(() => seen > before, 'the chunk to be read');
      recorded.push(t.registry.list()[0]?.bytesSent);
    };
    await feed(1024); // 1 KiB, no time passed
    await feed(256 * 1024 - 1024); // 256 KiB in all: a step
    await feed(1024); // 1 KiB past the step
    vi.setSystemTime(start + 249);
    await feed(1); // 249 ms after the last record
    vi.setSystemTime(start + 250);
    await feed(1); // 250 ms after it
    source!.push(null);
    const r = await response;
    expect(r.complete).toBe(true);
    expect(recorded).toEqual([0, 256 * 1024, 256 * 1024, 256 * 1024, 256 * 1024 + 1026]);
  });
});
