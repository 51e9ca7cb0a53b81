/**
 * The drop-in and stock on-finished attached to the same response, ended by the same facts: the error each
 * listener receives must be the same (on-finished's `err` is the error the socket emitted, else null).
 */
import http from 'node:http';
import type net from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import dropIn from '../src/index.js';
import { connect, listen, type Running, until } from './helpers.js';

const stock = createRequire(import.meta.url)('on-finished') as typeof dropIn;

let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

type Seen = { err: Error | null | undefined } | undefined;

/** Starts a response that streams without end, lets `end` act on it, and returns what each listener got. */
async function bothListeners(
  end: (ctx: { res: http.ServerResponse; client: net.Socket }) => void,
  configure?: (server: http.Server) => void,
): Promise<{ dropIn: Seen; stock: Seen }> {
  const seen: { dropIn: Seen; stock: Seen } = { dropIn: undefined, stock: undefined };
  let client!: net.Socket;
  let response: http.ServerResponse | undefined;
  running = await listen((_req, res) => {
    response = res;
    dropIn(res, (err) => (seen.dropIn = { err }));
    stock(res, (err) => (seen.stock = { err }));
    res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
    res.write(Buffer.alloc(64 * 1024));
  });
  configure?.(running.server);
  client = await connect(running.port);
  client.on('error', () => {});
  const gotHead = new Promise<void>((resolve) => client.once('data', () => resolve()));
  client.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await gotHead;
  end({ res: response!, client });
  await until(() => seen.dropIn !== undefined && seen.stock !== undefined, 'both listeners');
  return seen;
}

const describeErr = (seen: Seen) => {
  const err = seen?.err;
  return err == null ? null : { name: err.name, message: err.message, code: (err as NodeJS.ErrnoException).code };
};

describe('the same err as stock on-finished, on the same response', () => {
  it('client resets the connection mid-body (RST): the same socket error', async () => {
    const seen = await bothListeners(({ client }) => client.resetAndDestroy());
    expect(describeErr(seen.dropIn)).toEqual(describeErr(seen.stock));
    expect(seen.dropIn!.err).toBe(seen.stock!.err);
  });

  it('client closes the connection mid-body (FIN): no error, or the same one', async () => {
    const seen = await bothListeners(({ client }) => client.destroy());
    expect(describeErr(seen.dropIn)).toEqual(describeErr(seen.stock));
  });

  it('the app destroys the response with an error: that error', async () => {
    const failure = new Error('upstream failed');
    const seen = await bothListeners(({ res }) => res.destroy(failure));
    expect(seen.stock!.err).toBe(failure);
    expect(seen.dropIn!.err).toBe(failure);
  });

  it('the app destroys the response without an error: null', async () => {
    const seen = await bothListeners(({ res }) => res.destroy());
    expect(seen.stock!.err ?? null).toBeNull();
    expect(seen.dropIn!.err).toBeNull();
  });

  it('the server times the socket out: null', async () => {
    const seen = await bothListeners(
      () => {},
      (server) => server.setTimeout(50),
    );
    expect(seen.stock!.err ?? null).toBeNull();
    expect(seen.dropIn!.err).toBeNull();
  });
});

describe('outgoing client requests (ClientRequest), as on-finished also takes them', () => {
  async function watchClientRequest(start: () => http.ClientRequest): Promise<{ dropIn: Seen; stock: Seen }> {
    const seen: { dropIn: Seen; stock: Seen } = { dropIn: undefined, stock: undefined };
    const req = start();
    req.on('error', () => {});
    dropIn(req, (err) => (seen.dropIn = { err }));
    stock(req, (err) => (seen.stock = { err }));
    req.end();
    await until(() => seen.dropIn !== undefined && seen.stock !== undefined, 'both listeners');
    return seen;
  }

  it('a request sent in full: no error', async () => {
    running = await listen((req, res) => {
      req.resume();
      res.end('ok');
    });
    const port = running.port;
    const seen = await watchClientRequest(() => http.request({ host: '127.0.0.1', port, method: 'POST', agent: false }, (res) => res.resume()));
    expect(seen.stock!.err ?? null).toBeNull();
    expect(seen.dropIn!.err).toBeNull();
  });

  it('a connection refused: the same socket error', async () => {
    const closed = await listen();
    const port = closed.port;
    await closed.close();
    const seen = await watchClientRequest(() => http.request({ host: '127.0.0.1', port, agent: false }));
    expect((seen.stock!.err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(seen.dropIn!.err).toBe(seen.stock!.err);
  });
});
