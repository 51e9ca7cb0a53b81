/**
 * on-finished 2.4's own test scenarios, each run against the drop-in and
 * against stock on-finished: the second run pins the upstream behaviour the
 * first must match (same listener calls, same `err`, same `isFinished`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import dropIn from '../src/index.js';
import { connect, deferred, get, getThenAbort, listen, type Running, until, writeRequest } from './helpers.js';

const stock = createRequire(import.meta.url)('on-finished') as typeof dropIn;

type Outcome = { err: Error | null | undefined; msg: unknown };

const implementations = [
  ['@lifeline/on-finished', dropIn],
  ['stock on-finished 2.4.1 (upstream behaviour)', stock],
] as const;

describe.each(implementations)('%s', (_name, onFinished) => {
  let running: Running | undefined;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await running?.close();
    running = undefined;
  });
  const serve = async (handler: http.RequestListener) => (running = await listen(handler));
  const raw = async (port: number) => {
    const socket = await connect(port);
    socket.on('error', () => {});
    socket.resume();
    sockets.push(socket);
    return socket;
  };

  describe('onFinished(res, listener)', () => {
    it('calls the listener, asynchronously, for an object that is not a message', async () => {
      const called = deferred<unknown[]>();
      let sync = true;
      const msg = {};
      const returned = onFinished(msg, (...args: unknown[]) => called.resolve([sync, ...args]));
      sync = false;
      expect(returned).toBe(msg);
      expect(await called.promise).toEqual([false, null, msg]);
    });

    it('fires once when the response finishes, with no error and the response', async () => {
      const done = deferred<Outcome & { res: unknown }>();
      const { port } = await serve((_req, res) => {
        onFinished(res, (err, msg) => done.resolve({ err, msg, res }));
        setTimeout(() => res.end(), 0);
      });
      await get(port);
      const outcome = await done.promise;
      expect(outcome.err).toBeNull();
      expect(outcome.msg).toBe(outcome.res);
    });

    it('fires asynchronously when attached after the response finished', async () => {
      const done = deferred<{ sync: boolean; err: unknown }>();
      const { port } = await serve((_req, res) => {
        onFinished(res, () => {
          let sync = true;
          onFinished(res, (err) => done.resolve({ sync, err }));
          sync = false;
        });
        setTimeout(() => res.end(), 0);
      });
      await get(port);
      expect(await done.promise).toEqual({ sync: false, err: null });
    });

    it('runs the listener in the AsyncLocalStorage context it was attached in', async () => {
      const als = new AsyncLocalStorage<string>();
      const before = deferred<string | undefined>();
      const after = deferred<string | undefined>();
      const { port } = await serve((_req, res) => {
        als.run('attached-before-end', () =>
          onFinished(res, () => {
            before.resolve(als.getStore());
            als.run('attached-after-end', () => onFinished(res, () => after.resolve(als.getStore())));
          }),
        );
        setTimeout(() => als.run('ending', () => res.end()), 0);
      });
      await get(port);
      expect(await before.promise).toBe('attached-before-end');
      expect(await after.promise).toBe('attached-after-end');
    });

    it('fires once for each response of a keep-alive socket', async () => {
      const seen: unknown[] = [];
      const { port } = await serve((_req, res) => {
        onFinished(res, () => {
          seen.push(res);
          if (seen.length === 1) writeRequest(socket);
        });
        res.end();
      });
      const socket = await raw(port);
      writeRequest(socket);
      await until(() => seen.length >= 2, 'two responses');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen.length).toBe(2);
      expect(seen[0]).not.toBe(seen[1]);
    });

    it('fires for each pipelined response, in order', async () => {
      const responses: http.ServerResponse[] = [];
      const finished: { index: number; err: unknown }[] = [];
      let requestsRead = 0;
      const { port } = await serve((req, res) => {
        const index = responses.push(res) - 1;
        onFinished(res, (err) => {
          finished.push({ index, err });
          if (index === 0) responses[1]!.end('response b');
        });
        onFinished(req, () => {
          if (++requestsRead === 2) responses[0]!.end('response a');
        });
        req.resume();
      });
      const socket = await raw(port);
      let data = '';
      socket.setEncoding('utf8').on('data', (c: string) => (data += c));
      writeRequest(socket);
      writeRequest(socket);
      await until(() => finished.length === 2 && /response b/.test(data), 'both responses');
      expect(finished).toEqual([
        { index: 0, err: null },
        { index: 1, err: null },
      ]);
      expect(data).toMatch(/response a[\s\S]*response b/);
    });

    it('fires with the socket error when the request is malformed, and isFinished is then true', async () => {
      const done = deferred<Outcome & { res: unknown; finished: unknown }>();
      let socket!: net.Socket;
      const { port } = await serve((_req, res) => {
        onFinished(res, (err, msg) => done.resolve({ err, msg, res, finished: onFinished.isFinished(res) }));
        socket.write('W'); // not a chunk size: a parse error on the server's socket
      });
      socket = await raw(port);
      writeRequest(socket, true);
      const outcome = await done.promise;
      expect(outcome.err).toBeInstanceOf(Error);
      expect((outcome.err as NodeJS.ErrnoException).code).toMatch(/^HPE_/);
      expect(outcome.msg).toBe(outcome.res);
      expect(outcome.finished).toBe(true);
    });

    it('fires with no error when the client aborts, and isFinished is then true', async () => {
      const done = deferred<{ err: unknown; finished: unknown }>();
      let client!: { abort(): void };
      const { port } = await serve((_req, res) => {
        onFinished(res, (err) => done.resolve({ err, finished: onFinished.isFinished(res) }));
        setTimeout(() => client.abort(), 0);
      });
      client = getThenAbort(port);
      const outcome = await done.promise;
      expect(outcome.err ?? null).toBeNull();
      expect(outcome.finished).toBe(true);
    });

    it('takes 400 listeners on one response without a MaxListenersExceededWarning, and calls each once', async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      let calls = 0;
      try {
        const { port } = await serve((_req, res) => {
          for (let i = 0; i < 400; i++) onFinished(res, () => calls++);
          res.end();
        });
        await get(port);
        await until(() => calls >= 400, '400 calls');
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        process.off('warning', onWarning);
      }
      expect(calls).toBe(400);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    });
  });

  describe('isFinished(res)', () => {
    it('throws a TypeError for null and undefined', () => {
      expect(() => onFinished.isFinished(null as never)).toThrow(TypeError);
      expect(() => onFinished.isFinished(undefined as never)).toThrow(TypeError);
    });

    it('is undefined for objects that are not messages, numbers, strings and booleans', () => {
      for (const value of [{}, 123, 'string', true, false]) expect(onFinished.isFinished(value as never)).toBeUndefined();
    });

    it('is false before the response ends and true once it finished', async () => {
      const answers = deferred<unknown[]>();
      const { port } = await serve((_req, res) => {
        const before = onFinished.isFinished(res);
        onFinished(res, () => answers.resolve([before, onFinished.isFinished(res)]));
        res.end();
      });
      await get(port);
      expect(await answers.promise).toEqual([false, true]);
    });

    it('is false for both pipelined responses sharing a socket until they end', async () => {
      const responses: http.ServerResponse[] = [];
      const answers = deferred<unknown[]>();
      let read = 0;
      const { port } = await serve((req, res) => {
        responses.push(res);
        onFinished(req, () => {
          if (++read !== 2) return;
          answers.resolve(responses.map((r) => onFinished.isFinished(r)));
          for (const r of responses) r.end();
        });
        req.resume();
      });
      const socket = await raw(port);
      writeRequest(socket);
      writeRequest(socket);
      expect(await answers.promise).toEqual([false, false]);
    });

    it('fires for both pipelined requests when the socket is destroyed, the unread one with the parser\'s end-of-input error', async () => {
      const calls: unknown[] = [];
      let requests = 0;
      let socket!: net.Socket;
      const { port } = await serve((req) => {
        requests++;
        onFinished(req, (err) => {
          calls.push(err ?? null);
          if (calls.length === 1) socket.destroy();
        });
        req.resume();
        if (requests === 1) writeRequest(socket, true);
      });
      socket = await raw(port);
      writeRequest(socket);
      await until(() => calls.length === 2, 'both request listeners');
      expect(calls[0]).toBeNull();
      // The second request's chunked body was cut off: the socket fails with the parser's error for it.
      expect((calls[1] as NodeJS.ErrnoException).code).toBe('HPE_INVALID_EOF_STATE');
    });
  });

  describe('onFinished(req, listener)', () => {
    it('fires once the request is read, with no error and the request', async () => {
      const done = deferred<Outcome & { req: unknown }>();
      const { port } = await serve((req, res) => {
        onFinished(req, (err, msg) => done.resolve({ err, msg, req }));
        req.resume();
        setTimeout(() => res.end(), 0);
      });
      await get(port);
      const outcome = await done.promise;
      expect(outcome.err).toBeNull();
      expect(outcome.msg).toBe(outcome.req);
    });

    it('fires asynchronously, in the caller\'s AsyncLocalStorage context, when attached after the request was read', async () => {
      const als = new AsyncLocalStorage<string>();
      const done = deferred<{ sync: boolean; store: string | undefined; first: string | undefined }>();
      const { port } = await serve((req, res) => {
        als.run('first', () =>
          onFinished(req, () => {
            const first = als.getStore();
            let sync = true;
            als.run('second', () => onFinished(req, () => done.resolve({ sync, store: als.getStore(), first })));
            sync = false;
          }),
        );
        req.resume();
        setTimeout(() => res.end(), 0);
      });
      await get(port);
      expect(await done.promise).toEqual({ sync: false, store: 'second', first: 'first' });
    });

    it('fires once for each request of a keep-alive socket, after its body', async () => {
      const seen: { body: string; err: unknown }[] = [];
      let socket!: net.Socket;
      const { port } = await serve((req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (c: string) => (body += c));
        onFinished(req, (err) => {
          seen.push({ body, err });
          res.end();
          if (seen.length === 1) {
            writeRequest(socket, true);
            socket.write('1\r\nA\r\n0\r\n\r\n');
          }
        });
      });
      socket = await raw(port);
      writeRequest(socket, true);
      socket.write('1\r\nA\r\n0\r\n\r\n');
      await until(() => seen.length >= 2, 'two requests');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([
        { body: 'A', err: null },
        { body: 'A', err: null },
      ]);
    });

    it('fires with the socket error when the request body is malformed, and isFinished is then true', async () => {
      const done = deferred<Outcome & { req: unknown; finished: unknown }>();
      let socket!: net.Socket;
      const { port } = await serve((req) => {
        onFinished(req, (err, msg) => done.resolve({ err, msg, req, finished: onFinished.isFinished(req) }));
        socket.write('W');
      });
      socket = await raw(port);
      writeRequest(socket, true);
      const outcome = await done.promise;
      expect((outcome.err as NodeJS.ErrnoException).code).toMatch(/^HPE_/);
      expect(outcome.msg).toBe(outcome.req);
      expect(outcome.finished).toBe(true);
    });

    it('fires with the socket error for every pipelined request when the socket fails', async () => {
      const errors: unknown[] = [];
      let count = 0;
      let socket!: net.Socket;
      const { port } = await serve((req) => {
        const num = ++count;
        onFinished(req, (err) => errors.push(err));
        if (num === 1) {
          writeRequest(socket, true);
          req.pause();
        } else {
          socket.write('W'); // framing error in the second request's body
          req.resume();
        }
      });
      socket = await raw(port);
      const closed = deferred<void>();
      socket.on('close', () => closed.resolve());
      writeRequest(socket);
      await closed.promise;
      await until(() => errors.length === 2, 'both request listeners');
      expect(count).toBe(2);
      for (const err of errors) expect((err as NodeJS.ErrnoException).code).toMatch(/^HPE_/);
    });

    it('fires with no error when the client aborts, and isFinished(req) is then true', async () => {
      const done = deferred<{ err: unknown; finished: unknown }>();
      let client!: { abort(): void };
      const { port } = await serve((req) => {
        onFinished(req, (err) => done.resolve({ err, finished: onFinished.isFinished(req) }));
        setTimeout(() => client.abort(), 0);
      });
      client = getThenAbort(port);
      const outcome = await done.promise;
      expect(outcome.err ?? null).toBeNull();
      expect(outcome.finished).toBe(true);
    });

    it('takes 400 listeners on one request without a MaxListenersExceededWarning', async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      let calls = 0;
      try {
        const { port } = await serve((req, res) => {
          for (let i = 0; i < 400; i++) onFinished(req, () => calls++);
          req.resume();
          res.end();
        });
        await get(port);
        await until(() => calls >= 400, '400 calls');
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        process.off('warning', onWarning);
      }
      expect(calls).toBe(400);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    });
  });

  describe('isFinished(req)', () => {
    it('is false before the request is read, also while its data is buffered, and true after', async () => {
      const answers = deferred<unknown[]>();
      const { port } = await serve((req, res) => {
        const before = onFinished.isFinished(req);
        req.pause();
        setTimeout(() => {
          const buffered = onFinished.isFinished(req);
          onFinished(req, () => answers.resolve([before, buffered, onFinished.isFinished(req)]));
          req.resume();
          res.end();
        }, 10);
      });
      await get(port);
      expect(await answers.promise).toEqual([false, false, true]);
    });
  });

  // CONNECT and Upgrade requests count as finished at once: a listener fires on the next turn.
  describe.each([
    ['CONNECT', 'connect', { method: 'CONNECT', path: '127.0.0.1:80' }, 'HTTP/1.1 200 OK\r\n\r\n'],
    ['Upgrade', 'upgrade', { headers: { Connection: 'Upgrade', Upgrade: 'Raw' } }, 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: Raw\r\n\r\n'],
  ] as const)('%s requests', (_kind, event, options, head) => {
    it('are finished at once; the listener fires with the data sent with the head, and again when attached later', async () => {
      const facts: { finished: unknown; err: unknown; data: string; late?: boolean }[] = [];
      const { server, port } = await serve((_req, res) => {
        res.statusCode = 405;
        res.end();
      });
      server.on(event, (req: http.IncomingMessage, socket: net.Socket, bodyHead: Buffer) => {
        const data = [bodyHead];
        const finished = onFinished.isFinished(req);
        req.on('data', (c: Buffer) => data.push(c));
        onFinished(req, (err) => {
          facts.push({ finished, err, data: Buffer.concat(data).toString() });
          socket.write(head);
        });
        socket.on('data', (chunk) => {
          onFinished(req, (err) => {
            facts.push({ finished: onFinished.isFinished(req), err, data: chunk.toString(), late: true });
            socket.end('pong');
          });
        });
      });
      const client = http.request({ host: '127.0.0.1', port, agent: false, ...options });
      const pong = deferred<string>();
      client.on(event, (_res: unknown, socket: net.Socket) => {
        socket.write('ping');
        socket.on('data', (c) => {
          pong.resolve(c.toString());
          socket.end();
        });
      });
      client.end('knock, knock');
      expect(await pong.promise).toBe('pong');
      expect(facts).toEqual([
        { finished: true, err: null, data: 'knock, knock' },
        { finished: true, err: null, data: 'ping', late: true },
      ]);
    });
  });
});
