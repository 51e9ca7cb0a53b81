import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConnectionClosedError, ConnectionErroredError, connectionOf, type Connection } from '../src/index.js';
import { request } from './helpers/client.js';
import { rawClient, sleep, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

describe('connection.signal over a real 127.0.0.1 socket', () => {
  it('aborts with ConnectionClosedError when the client disconnects before the response', async () => {
    let signal: AbortSignal | undefined;
    let abortedInHandler: unknown;
    const t = await startHttp1((req) => {
      signal = connectionOf(req)!.signal;
      signal.addEventListener('abort', () => (abortedInHandler = signal!.reason));
      // never responds
    });
    const client = await rawClient(t.port);
    try {
      client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => signal !== undefined, 'the handler');
      expect(signal!.aborted).toBe(false);
      client.destroy();
      await waitForReleases(t, 1);
      expect(signal!.aborted).toBe(true);
      expect(abortedInHandler).toBe(signal!.reason);
      expect(signal!.reason).toBeInstanceOf(ConnectionClosedError);
      expect(signal!.reason).toMatchObject({ name: 'AbortError', code: 'LIFELINE_CONNECTION_CLOSED', reason: 'aborted' });
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it('takes 50 abort listeners without a MaxListenersExceededWarning, and each fires once when the client leaves', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const calls: number[] = new Array(50).fill(0);
    let signal: AbortSignal | undefined;
    const t = await startHttp1((req) => {
      signal = connectionOf(req)!.signal;
      // What users do: pass the one signal to every call the request makes.
      for (let i = 0; i < 50; i++) signal.addEventListener('abort', () => calls[i]!++);
      // never responds
    });
    const client = await rawClient(t.port);
    try {
      client.write('GET /many HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => signal !== undefined, 'the handler');
      // process.emitWarning emits on a later tick: give it the chance before looking.
      await new Promise((resolve) => setImmediate(resolve));
      client.destroy();
      await waitForReleases(t, 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
      expect(signal!.aborted).toBe(true);
      expect(calls).toEqual(new Array(50).fill(1));
    } finally {
      process.off('warning', onWarning);
      client.destroy();
      await t.close();
    }
  });

  it('does not abort when the response finishes normally', async () => {
    let signal: AbortSignal | undefined;
    const t = await startHttp1((req, res) => {
      signal = connectionOf(req)!.signal;
      res.end('ok');
    });
    try {
      const r = await request(t.port);
      expect(r.body.toString()).toBe('ok');
      await waitForReleases(t, 1);
      await sleep(30); // the socket's close comes after finish
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(signal!.aborted).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('does not abort because the request body was read in full and req emitted close (fact 4)', async () => {
    const body = 'a'.repeat(10_000);
    let signal: AbortSignal | undefined;
    let reqClosed = false;
    let abortedBeforeResponse: boolean | undefined;
    const t = await startHttp1((req, res) => {
      signal = connectionOf(req)!.signal;
      req.on('close', () => (reqClosed = true));
      let received = 0;
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => {
        setTimeout(() => {
          abortedBeforeResponse = signal!.aborted;
          res.end(`got ${received} (req closed: ${reqClosed})`);
        }, 50);
      });
    });
    try {
      const r = await request(t.port, { method: 'POST', body, headers: { 'content-length': body.length } });
      expect(r.body.toString()).toBe('got 10000 (req closed: true)');
      await waitForReleases(t, 1);
      expect(abortedBeforeResponse).toBe(false);
      expect(signal!.aborted).toBe(false);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    } finally {
      await t.close();
    }
  });

  it('a signal first read after a closed end is already aborted with ConnectionClosedError', async () => {
    let connection: Connection | undefined;
    const t = await startHttp1((req) => {
      connection = connectionOf(req); // the signal is not touched here
    });
    const client = await rawClient(t.port);
    try {
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => connection !== undefined, 'the handler');
      client.destroy();
      await waitForReleases(t, 1);
      expect(connection!.outcome).toBe('closed');
      const signal = connection!.signal;
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(ConnectionClosedError);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it('a signal first read after a finished end is not aborted', async () => {
    let connection: Connection | undefined;
    const t = await startHttp1((req, res) => {
      connection = connectionOf(req);
      res.end('ok');
    });
    try {
      await request(t.port);
      await waitForReleases(t, 1);
      expect(connection!.outcome).toBe('finished');
      expect(connection!.signal.aborted).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('aborts with ConnectionErroredError after connection.fail("handler-error", err); the client gets a 500', async () => {
    let signal: AbortSignal | undefined;
    const t = await startHttp1((req) => {
      const connection = connectionOf(req)!;
      signal = connection.signal;
      connection.fail('handler-error', Object.assign(new Error('db down'), { code: 'EDB' }));
    });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(500);
      await waitForReleases(t, 1);
      expect(signal!.aborted).toBe(true);
      expect(signal!.reason).toBeInstanceOf(ConnectionErroredError);
      expect(signal!.reason).toMatchObject({ name: 'AbortError', code: 'LIFELINE_CONNECTION_ERRORED', reason: 'handler-error' });
      expect((signal!.reason as Error).cause).toMatchObject({ message: 'db down', code: 'EDB' });
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'handler-error' } });
    } finally {
      await t.close();
    }
  });

  it("work cancelled through the signal rejects with an error that passes the usual err.name === 'AbortError' check (fetch rejects with the reason itself)", async () => {
    const upstream = http.createServer(() => {}); // never answers: the fetch is in flight when the client leaves
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    let signal: AbortSignal | undefined;
    let rejection: unknown;
    const t = await startHttp1((req) => {
      signal = connectionOf(req)!.signal;
      fetch(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`, { signal }).then(
        () => (rejection = 'resolved'),
        (error: unknown) => (rejection = error),
      );
    });
    const client = await rawClient(t.port);
    try {
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => signal !== undefined, 'the handler');
      client.destroy();
      await waitFor(() => rejection !== undefined, 'the fetch to settle');
      expect(rejection).toBe(signal!.reason);
      expect((rejection as Error).name).toBe('AbortError');
      expect(rejection).toBeInstanceOf(ConnectionClosedError);
    } finally {
      client.destroy();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
      await t.close();
    }
  });
});
