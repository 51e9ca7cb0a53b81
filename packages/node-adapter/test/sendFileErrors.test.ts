import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendFile, type SendFileOptions, type SendResult } from '../src/index.js';
import { descriptorsOpenOn, rawRequest } from '../src/testing/index.js';
import { request } from './helpers/client.js';
import { rawClient, startHttp1, waitFor, waitForReleases, type TestServer } from './helpers/server.js';

// Faults the file system gives only to some processes or at some moments (a permission error when the
// tests run as root, too many open files, an fstat or a read that fails, a file swapped for a link between
// the root check and the open, a file emptied after its size was read), injected at sendFile's own open:
// everything else is the real file system.
const faults = vi.hoisted(() => ({
  openError: undefined as string | undefined,
  statError: undefined as string | undefined,
  readError: undefined as string | undefined,
  beforeOpen: undefined as (() => void) | undefined,
  afterStat: undefined as (() => void) | undefined,
}));
/** Every descriptor sendFile's open returned, and every close of one, by sendFile or by its read stream. */
const descriptors = vi.hoisted(() => ({ opened: [] as number[], closed: [] as number[] }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  type Callback<T> = (error: NodeJS.ErrnoException | null, value: T) => void;
  const injected = (code: string, what: string) => Object.assign(new Error(`${code}: injected, ${what}`), { code });
  const open = ((file: fs.PathLike, flags: fs.OpenMode, callback: Callback<number>) => {
    faults.beforeOpen?.();
    if (faults.openError !== undefined) return void process.nextTick(callback, injected(faults.openError, `open '${String(file)}'`), 0);
    actual.open(file, flags, (error, fd) => {
      if (error === null) descriptors.opened.push(fd);
      callback(error, fd);
    });
  }) as typeof actual.open;
  const close = ((fd: number, callback?: fs.NoParamCallback) => {
    descriptors.closed.push(fd);
    actual.close(fd, callback);
  }) as typeof actual.close;
  const fstat = ((fd: number, callback: Callback<fs.Stats>) => {
    const code = faults.statError;
    if (code !== undefined) return void process.nextTick(callback, injected(code, 'fstat'), undefined);
    const afterStat = faults.afterStat;
    actual.fstat(fd, (error, stats) => {
      if (error === null) afterStat?.();
      callback(error, stats);
    });
  }) as typeof actual.fstat;
  // The read stream sendFile pipes reads and closes through the fs it is given: a failing read() for it
  // when asked, and always the close above.
  const createReadStream = ((path: fs.PathLike, options: Parameters<typeof actual.createReadStream>[1] & object) => {
    const code = faults.readError;
    const read = code === undefined ? actual.read : (...args: unknown[]) => process.nextTick(args.at(-1) as Callback<number>, injected(code, 'read'), 0);
    return actual.createReadStream(path, { ...options, fs: { ...actual, read, close } });
  }) as typeof actual.createReadStream;
  const mocked = { ...actual, open, close, fstat, createReadStream };
  return { ...mocked, default: mocked };
});

let dir: string;
let hello: string;
let emptied: string;
const TEXT = 'hello file\n'.repeat(20);

beforeAll(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-senderr-')));
  hello = path.join(dir, 'hello.txt');
  emptied = path.join(dir, 'emptied.txt');
  fs.writeFileSync(hello, TEXT);
  fs.symlinkSync(path.join(dir, 'loop'), path.join(dir, 'loop')); // a link to itself: ELOOP on open
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  faults.openError = undefined;
  faults.statError = undefined;
  faults.readError = undefined;
  faults.beforeOpen = undefined;
  faults.afterStat = undefined;
});

/** An instrumented server that sends `current.path` and records what each call resolved with. */
async function fileServer(options: SendFileOptions = {}) {
  const current = { path: hello, results: [] as SendResult[] };
  const t = await startHttp1(async (_req, res) => {
    current.results.push(await sendFile(res, current.path, options));
  });
  const fetchPath = async (p: string) => {
    current.path = p;
    const settled = current.results.length;
    const response = await request(t.port);
    await waitFor(() => current.results.length > settled, 'sendFile to settle');
    return { response, result: current.results[settled]! };
  };
  return { t, fetchPath };
}

describe('sendFile when the file cannot be opened or read: a plain answer, nothing left open', () => {
  let server: Awaited<ReturnType<typeof fileServer>>;
  beforeAll(async () => {
    server = await fileServer();
  });
  afterAll(async () => {
    await (server.t as TestServer<never>).close();
  });

  it.each([
    ['a path through a file (ENOTDIR)', () => path.join(hello, 'inner.txt'), undefined, 404, 'Not Found\n', 'ENOTDIR'],
    // A name longer than the file system allows cannot exist: 404 as in `send`, not a server error.
    ['a name too long for the file system (ENAMETOOLONG)', () => path.join(dir, 'x'.repeat(300)), undefined, 404, 'Not Found\n', 'ENAMETOOLONG'],
    ['a link loop (ELOOP)', () => path.join(dir, 'loop'), undefined, 403, 'Forbidden\n', 'ELOOP'],
    ['a file the process may not read (EACCES)', () => hello, 'EACCES', 403, 'Forbidden\n', 'EACCES'],
    ['an operation not permitted (EPERM)', () => hello, 'EPERM', 403, 'Forbidden\n', 'EPERM'],
    ['too many open files (EMFILE)', () => hello, 'EMFILE', 500, 'Internal Server Error\n', 'EMFILE'],
  ])('%s → %i with a plain body, the error in the result, the connection finished', async (_what, target, injected, status, body, code) => {
    faults.openError = injected;
    const releasedBefore = server.t.releases.length;
    const { response, result } = await server.fetchPath(target());
    expect([response.status, response.body.toString()]).toEqual([status, body]);
    expect(result).toMatchObject({ status, bytes: 0, error: { code } });
    await waitForReleases(server.t, releasedBefore + 1);
    expect(server.t.releases.slice(releasedBefore).map((c) => c.outcome)).toEqual(['finished']);
  });

  it('fstat failing after the open → 500, and the opened file is closed', async () => {
    faults.statError = 'EIO';
    const { response, result } = await server.fetchPath(hello);
    expect([response.status, response.body.toString()]).toEqual([500, 'Internal Server Error\n']);
    expect(result).toMatchObject({ status: 500, bytes: 0, error: { code: 'EIO' } });
    await waitFor(() => descriptorsOpenOn(hello) === 0, 'the file to be closed');
  });

  it.each([
    ['whose first read fails (EIO)', 'EIO', () => (faults.readError = 'EIO')],
    ['emptied after its size was read', 'LIFELINE_SHORT_READ', () => (faults.afterStat = () => fs.truncateSync(emptied, 0))],
  ])('a file %s, before its first byte was sent → a whole 500, the connection errored (stream-error), the file closed', async (_what, code, inject) => {
    fs.writeFileSync(emptied, TEXT);
    inject();
    const releasedBefore = server.t.releases.length;
    const { response, result } = await server.fetchPath(emptied);
    expect([response.status, response.body.toString(), response.complete]).toEqual([500, 'Internal Server Error\n', true]);
    expect(result).toMatchObject({ status: 500, bytes: 0, outcome: 'errored', error: { code } });
    await waitForReleases(server.t, releasedBefore + 1);
    expect(server.t.releases[releasedBefore]).toMatchObject({ outcome: 'errored', event: { reason: 'stream-error', error: { code } } });
    await waitFor(() => descriptorsOpenOn(emptied) === 0, 'the file to be closed');
  });

  it.each([
    ['a file sent whole', () => {}, () => hello],
    ['a directory (404 after the open)', () => {}, () => dir],
    ['a file whose fstat fails', () => (faults.statError = 'EIO'), () => hello],
    ['a file whose first read fails', () => (faults.readError = 'EIO'), () => hello],
  ])('%s: the descriptor sendFile opened is closed exactly once, by sendFile or by its read stream', async (_what, inject, target) => {
    inject();
    descriptors.opened.length = 0;
    descriptors.closed.length = 0;
    await server.fetchPath(target());
    await waitFor(() => descriptors.closed.length >= descriptors.opened.length, 'the descriptor to be closed');
    // A second close of a number the system may have handed to another file since would close that file.
    expect(descriptors.opened).toHaveLength(1);
    expect(descriptors.closed).toEqual(descriptors.opened);
  });

  it('a directory → 404 whose error names the path', async () => {
    const { response, result } = await server.fetchPath(dir);
    expect([response.status, response.body.toString()]).toEqual([404, 'Not Found\n']);
    expect(result.error).toMatchObject({ code: 'EISDIR', message: `${dir} is not a file` });
  });
});

describe('sendFile with root: a file swapped for a link after the root check', () => {
  it('is not followed (403, ELOOP): the link\'s target is never sent', async () => {
    const root = path.join(dir, 'public');
    fs.mkdirSync(root, { recursive: true });
    const served = path.join(root, 'swapped.txt');
    fs.writeFileSync(served, 'inside\n');
    const { t, fetchPath } = await fileServer({ root });
    try {
      // The swap happens at the open itself, after resolveInRoot saw a plain file inside the root.
      faults.beforeOpen = () => {
        fs.rmSync(served);
        fs.symlinkSync(hello, served);
      };
      const { response, result } = await fetchPath('/swapped.txt');
      expect([response.status, response.body.toString()]).toEqual([403, 'Forbidden\n']);
      expect(result.error).toMatchObject({ code: 'ELOOP' });
    } finally {
      await t.close();
    }
  });
});

describe('sendFile after the handler already sent the head', () => {
  let t: TestServer<http.Server> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('streams the file as the body under the handler\'s own head, with none of its own headers', async () => {
    const results: SendResult[] = [];
    t = await startHttp1(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/x-own', 'content-length': TEXT.length });
      results.push(await sendFile(res, hello));
    });
    const r = await request(t.port, { headers: { 'if-none-match': '*' } }); // too late for a 304: the head is out
    expect([r.status, r.complete, r.body.toString()]).toEqual([200, true, TEXT]);
    expect(r.headers['content-type']).toBe('text/x-own');
    expect(r.headers.etag).toBeUndefined();
    await waitFor(() => results.length === 1, 'sendFile to settle');
    expect(results[0]).toMatchObject({ status: 200, bytes: TEXT.length, outcome: 'finished' });
  });

  it('a missing file can no longer get a 404: the connection ends errored (stream-error) with the open error', async () => {
    const results: SendResult[] = [];
    t = await startHttp1(async (_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial');
      results.push(await sendFile(res, path.join(dir, 'missing.txt')));
    });
    const r = await request(t.port);
    expect([r.status, r.complete]).toEqual([200, false]);
    await waitForReleases(t, 1);
    expect(t.releases[0]!.outcome).toBe('errored');
    expect(t.releases[0]!.event).toMatchObject({ type: 'ERROR', reason: 'stream-error', error: { code: 'ENOENT' } });
    await waitFor(() => results.length === 1, 'sendFile to settle');
    expect(results[0]).toMatchObject({ status: 200, bytes: 0, outcome: 'errored', error: { code: 'ENOENT' } });
  });
});

describe('sendFile on a response nobody tracks (a plain node:http server)', () => {
  const results = new Map<string, SendResult>();
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer(async (req, res) => {
      const url = req.url!;
      const pending = sendFile(res, url === '/missing' ? path.join(dir, 'missing.txt') : hello);
      // The client gone while the file is being opened: the response is destroyed before sendFile looks at it.
      if (url === '/gone') res.destroy();
      results.set(`${req.method} ${url}`, await pending);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const settled = async (key: string) => {
    await waitFor(() => results.has(key), `${key} to settle`);
    return results.get(key)!;
  };

  it('answers a missing file 404, a current copy 304, a bad range 416 and HEAD with headers; every result has no outcome', async () => {
    const missing = await request(port, { path: '/missing' });
    const { headers } = await request(port, { path: '/full' });
    const notModified = await request(port, { path: '/cached', headers: { 'if-none-match': String(headers.etag) } });
    const badRange = await request(port, { path: '/range', headers: { range: `bytes=${TEXT.length}-` } });
    const head = await request(port, { path: '/head', method: 'HEAD' });
    expect([missing.status, missing.body.toString()]).toEqual([404, 'Not Found\n']);
    expect([notModified.status, badRange.status, badRange.body.toString(), head.status, head.body.length]).toEqual([304, 416, 'Range Not Satisfiable\n', 200, 0]);
    expect(await settled('GET /missing')).toMatchObject({ status: 404, bytes: 0, outcome: undefined, error: { code: 'ENOENT' } });
    expect(await settled('GET /cached')).toEqual({ status: 304, bytes: 0, outcome: undefined });
    expect(await settled('GET /range')).toEqual({ status: 416, bytes: 0, outcome: undefined });
    expect(await settled('HEAD /head')).toEqual({ status: 200, bytes: 0, outcome: undefined });
  });

  it('a queued pipelined response whose socket died before sendFile was called: the call settles and the file is closed', async () => {
    // On Node 20 and 22 such a response is never told (no close, no finish); sendFile must not wait for it.
    const big = path.join(dir, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(1024 * 1024, 0x61)); // more than the response buffers: the read stream would stall open
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const queued: SendResult[] = [];
    let serverSocket: import('node:net').Socket | undefined;
    let arrived = 0;
    const own = http.createServer(async (req, res) => {
      serverSocket = req.socket;
      arrived++;
      if (req.url === '/hang') return; // the head of the queue never answers
      await gate;
      queued.push(await sendFile(res, big));
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    try {
      const c = await rawClient((own.address() as AddressInfo).port);
      c.write(rawRequest('/hang', false) + rawRequest('/big', true));
      await waitFor(() => arrived === 2, 'both requests to reach the handler');
      c.destroy();
      await waitFor(() => serverSocket!.destroyed, 'the server side of the socket to close');
      go();
      await waitFor(() => queued.length === 1, 'the queued sendFile to settle');
      expect(queued[0]!.outcome).toBeUndefined();
      await waitFor(() => descriptorsOpenOn(big) === 0, 'the file to be closed');
    } finally {
      own.closeAllConnections();
      own.close();
    }
  });

  it('a client gone before the file was opened: nothing is sent, no error is reported, the file is closed', async () => {
    const r = await request(port, { path: '/gone' });
    expect(r.status).toBeUndefined();
    expect(await settled('GET /gone')).toEqual({ status: 200, bytes: 0, outcome: undefined });
    await waitFor(() => descriptorsOpenOn(hello) === 0, 'the file to be closed');
  });
});
