import http from 'node:http';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, type ReleasedConnection } from '@lifeline/core';
import { track } from '../src/index.js';
import { get, rawClient, sleep, startHttp1, waitFor, waitForReleases, type TestServer } from './helpers/server.js';
import { nodePaths, queuedDeathReasons } from './helpers/nodePaths.js';

const BIG = Buffer.alloc(8 * 1024 * 1024, 'x');
let current: TestServer<http.Server> | undefined;
async function serve(handler: http.RequestListener, options?: http.ServerOptions) {
  current = await startHttp1(handler, options);
  return current;
}
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const outcomes = (releases: ReleasedConnection[]) => releases.map((c) => c.outcome);
const GET = (path = '/') => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe('HTTP/1 facts over a real 127.0.0.1 socket', () => {
  it('1. normal response: finish then close → finished, released once', async () => {
    const t = await serve((_req, res) => res.end('hello'));
    const r = await get(t.port);
    expect(r.body).toBe('hello');
    await waitForReleases(t, 1);
    await sleep(20);
    expect(outcomes(t.releases)).toEqual(['finished']);
    expect(t.registry.size).toBe(0);
    expect(t.registry.stats().lateEvents).toBe(0);
  });

  it('2a. client disconnects before headers → closed (aborted)', async () => {
    const t = await serve(() => {
      /* never answers */
    });
    const c = await rawClient(t.port);
    c.write(GET());
    await waitFor(() => t.registry.size === 1, 'request to arrive');
    c.destroy();
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'aborted' } });
    // No headers went out, so the journal records none.
    expect(t.releases[0]!.journal.map((j) => j.event.type)).toEqual(['CLOSE']);
  });

  it('2b. client disconnects mid-body → closed, with HEADERS in the journal', async () => {
    const t = await serve((_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(64 * 1024));
      // never ends
    });
    const c = await rawClient(t.port);
    c.write(GET());
    await waitFor(() => c.received().length > 1000, 'part of the body');
    c.destroy();
    await waitForReleases(t, 1);
    expect(outcomes(t.releases)).toEqual(['closed']);
    expect(t.releases[0]!.journal.map((j) => j.event.type)).toEqual(['HEADERS', 'CLOSE']);
  });

  it('2c. client leaves after the body was written but before finish → closed', async () => {
    const t = await serve((_req, res) => {
      res.end(BIG); // far more than the socket buffers: finish waits for the client to read
    });
    const c = await rawClient(t.port);
    c.pause();
    c.write(GET());
    await waitFor(() => t.registry.size === 1, 'request to arrive');
    await sleep(50);
    expect(t.releases).toHaveLength(0);
    c.destroy();
    await waitForReleases(t, 1);
    expect(outcomes(t.releases)).toEqual(['closed']);
  });

  it('3. client sends a full body then leaves before the response (req.aborted is false) → closed', async () => {
    // No timers: the handler holds its answer until the test has seen the client leave, so a slow machine
    // cannot let the response finish first.
    let aborted: boolean | undefined;
    let bodyEnded = false;
    let answerNow!: () => void;
    const mayAnswer = new Promise<void>((resolve) => (answerNow = resolve));
    const t = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        bodyEnded = true;
        void mayAnswer.then(() => {
          aborted = req.aborted;
          if (!res.destroyed) res.end('late');
        });
      });
    });
    const c = await rawClient(t.port);
    c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    await waitFor(() => bodyEnded, 'the whole body to arrive');
    c.destroy();
    await waitForReleases(t, 1);
    expect(outcomes(t.releases)).toEqual(['closed']);
    answerNow();
    await waitFor(() => aborted !== undefined, 'the handler to go on');
    expect(aborted).toBe(false);
  });

  it('4. req close after the body is consumed is not a disconnect', async () => {
    let reqClosed = false;
    const t = await serve((req, res) => {
      req.resume();
      req.on('close', () => (reqClosed = true));
      req.on('end', () => setTimeout(() => res.end('ok'), 50));
    });
    const r = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: t.port, method: 'POST', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end('some body');
    });
    expect(r).toBe(200);
    await waitForReleases(t, 1);
    expect(reqClosed).toBe(true);
    expect(outcomes(t.releases)).toEqual(['finished']);
  });

  it('6. res.destroy(err) (no error event on res) → errored, reason destroyed, with the error', async () => {
    const t = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
      setTimeout(() => res.destroy(Object.assign(new Error('backend gone'), { code: 'EBACKEND' })), 10);
    });
    await get(t.port).catch(() => undefined);
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({
      outcome: 'errored',
      event: { type: 'ERROR', reason: 'destroyed', error: { message: 'backend gone', code: 'EBACKEND' } },
    });
  });

  it('6b. res.destroy(err) with a numeric error code, as some libraries set → errored (destroyed), and no listener throws', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const t = await serve((_req, res) => {
        res.writeHead(200);
        res.write('partial');
        setImmediate(() => res.destroy(Object.assign(new Error('upstream said 502'), { code: 502 })));
      });
      await get(t.port).catch(() => undefined);
      await waitForReleases(t, 1);
      expect(uncaught).toEqual([]);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { message: 'upstream said 502' } } });
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  });

  it('8. keep-alive: many requests on one socket, each its own connection, no listener build-up', async () => {
    const t = await serve((_req, res) => res.end('k'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let warned = false;
    const onWarning = (w: Error) => {
      if (w.name === 'MaxListenersExceededWarning') warned = true;
    };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 300; i++) await get(t.port, `/${i}`, { agent });
      await waitForReleases(t, 300);
      expect(t.registry.stats().opened).toBe(300);
      expect(new Set(t.releases.map((c) => c.id)).size).toBe(300);
      expect(outcomes(t.releases).every((o) => o === 'finished')).toBe(true);
      await sleep(10);
      expect(warned).toBe(false);
    } finally {
      process.off('warning', onWarning);
      agent.destroy();
    }
  });

  it('8b. keep-alive: the server socket carries a fixed number of lifeline listeners', async () => {
    const counts: number[] = [];
    const t = await serve((req, res) => {
      counts.push(req.socket.listenerCount('close'));
      res.end('k');
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 50; i++) await get(t.port, '/', { agent });
      expect(new Set(counts.slice(1)).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('9. pipelining: the socket dies with responses still queued → each queued one released as closed', async () => {
    const t = await serve((req, res) => {
      if (req.url === '/slow') setTimeout(() => !res.destroyed && res.end('slow'), 300);
      else res.end('fast');
    });
    const c = await rawClient(t.port);
    c.write(GET('/slow') + GET('/a') + GET('/b'));
    await waitFor(() => t.registry.stats().opened === 3, 'three pipelined requests');
    c.destroy();
    await waitForReleases(t, 3);
    expect(t.registry.size).toBe(0);
    const byUrl = t.releases.map((r) => r.event);
    expect(byUrl.every((e) => e.type === 'CLOSE')).toBe(true);
    // The head of the queue gets its own close (aborted). The queued ones are found by the socket
    // watcher on Node 20 and 22 (session-closed); from Node 24 on they get their own close, by then
    // with the socket's ECONNRESET or without it (reset or aborted: the peer left either way).
    expect(byUrl[0]).toEqual({ type: 'CLOSE', reason: 'aborted' });
    for (const event of byUrl.slice(1)) expect(queuedDeathReasons).toContain((event as { reason: string }).reason);
  });

  it('9c. pipelining: the application destroys the socket with its own error while a response is queued → the queued one errored (socket-error) too, on every Node', async () => {
    const t = await serve((req) => {
      // /head is never answered; /queued waits behind it, and its handler kills the socket.
      if (req.url === '/queued') req.socket.destroy(new Error('app gave up on this socket'));
    });
    const c = await rawClient(t.port);
    c.on('error', () => {});
    c.write(GET('/head') + GET('/queued'));
    await waitForReleases(t, 2);
    c.destroy();
    const byUrl = t.releases.map((r) => [r.outcome, (r.event as { reason?: string }).reason, (r.event as { error?: { message?: string } }).error?.message]);
    expect(byUrl).toEqual([
      ['errored', 'socket-error', 'app gave up on this socket'],
      ['errored', 'socket-error', 'app gave up on this socket'],
    ]);
  });

  it('9d. pipelining: the application destroys the socket without an error while a response is queued → the queued one closed like the one in flight, never a reset (Node 24+ hands it an ECONNRESET of its own: no fact about the peer)', async () => {
    const t = await serve((req) => {
      if (req.url === '/queued') req.socket.destroy();
    });
    const c = await rawClient(t.port);
    c.on('error', () => {});
    c.write(GET('/head') + GET('/queued'));
    await waitForReleases(t, 2);
    c.destroy();
    const reasons = t.releases.map((r) => [r.outcome, (r.event as { reason?: string }).reason]);
    // Node 20/22 give the queued response no event of its own (the socket's watcher finds it: session-closed);
    // from Node 24 it gets its own 'close' with Node's ECONNRESET, recorded as what the socket saw: nothing, so aborted.
    expect(reasons).toEqual([
      ['closed', 'aborted'],
      ['closed', nodePaths.queuedResponseGetsClose ? 'aborted' : 'session-closed'],
    ]);
  });

  it('9b. pipelining: all answered → all finished, in order', async () => {
    const t = await serve((req, res) => res.end(req.url));
    const c = await rawClient(t.port);
    c.write(GET('/1') + GET('/2') + GET('/3'));
    await waitForReleases(t, 3);
    c.destroy();
    expect(outcomes(t.releases)).toEqual(['finished', 'finished', 'finished']);
  });

  it('12. server requestTimeout kills a slow request → errored, reason timeout', async () => {
    const t = await serve(
      (req, res) => {
        req.resume();
        req.on('end', () => res.end('never reached'));
      },
      { requestTimeout: 200, connectionsCheckingInterval: 50 } as http.ServerOptions,
    );
    const c = await rawClient(t.port);
    c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part');
    await waitForReleases(t, 1, 3_000);
    c.destroy();
    expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout', error: { code: 'ERR_HTTP_REQUEST_TIMEOUT' } } });
  });

  it('12b. socket timeout (server.timeout) kills an idle request → errored, reason timeout', async () => {
    const t = await serve(() => {
      /* never answers */
    });
    t.server.setTimeout(100);
    const c = await rawClient(t.port);
    c.write(GET());
    await waitForReleases(t, 1, 3_000);
    c.destroy();
    expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
  });

  it('12c. a socket timeout the application handled during one keep-alive request is not blamed on the next one', async () => {
    const answerFirst: (() => void)[] = [];
    const t = await serve((req, res) => {
      if (req.url === '/first') answerFirst.push(() => res.end('first'));
      // '/second' is never answered: its client leaves.
    });
    let timeouts = 0;
    // With a 'timeout' listener Node leaves the socket to the application, which keeps it and turns timeouts off.
    t.server.setTimeout(50, (socket) => {
      timeouts++;
      t.server.setTimeout(0);
      socket.setTimeout(0);
    });
    const c = await rawClient(t.port);
    c.write(GET('/first'));
    await waitFor(() => timeouts === 1 && answerFirst.length === 1, 'the socket timeout during the first request', 3_000);
    answerFirst[0]!();
    await waitForReleases(t, 1);
    c.write(GET('/second'));
    await waitFor(() => t.registry.size === 1, 'the second request on the same socket');
    c.destroy();
    await waitForReleases(t, 2);
    expect(timeouts).toBe(1);
    expect(t.releases.map((r) => [r.outcome, (r.event as { reason?: string }).reason])).toEqual([
      ['finished', undefined],
      ['closed', 'aborted'],
    ]);
  });

  it('13. facts twice or out of order change nothing after the first terminal fact', async () => {
    // Other runtimes deliver close twice, or close before finish. Re-emitting on a real Node response
    // would re-run Node's own listeners, so the adapter's listener is called directly.
    const t = await serve((req, res) => {
      const [onClose] = res.listeners('close').filter((l) => l.name === 'onResponseClose') as (() => void)[];
      if (req.url === '/early') onClose!.call(res); // a close reported before the response even started
      res.on('close', () => {
        onClose!.call(res);
        onClose!.call(res);
      });
      res.end('x');
    });
    await get(t.port, '/normal');
    await get(t.port, '/early');
    await waitForReleases(t, 2);
    await sleep(30);
    expect(outcomes(t.releases)).toEqual(['finished', 'closed']);
    expect(t.registry.stats()).toMatchObject({ opened: 2, inFlight: 0, released: { finished: 1, closed: 1, errored: 0 } });
  });

  it('14. a client reset mid-body → closed (reset), even where Node emits finish after the ECONNRESET (20, 22)', async () => {
    const t = await serve((_req, res) => res.end(BIG));
    const c = await rawClient(t.port);
    c.write(GET());
    await waitFor(() => c.received().length > 0, 'first bytes');
    c.resetAndDestroy();
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'reset' } });
  });
});

describe('HTTP/1: what each ending records', () => {
  it('the application destroys the socket with an error → errored (socket-error) with that error, before headers and after res.end() alike', async () => {
    const boom = () => Object.assign(new Error('tunnel broke'), { code: 'ETUNNEL' });
    const t = await serve((req, res) => {
      if (req.url === '/after-end') res.end('bye');
      req.socket.destroy(boom());
    });
    for (const [i, path] of ['/before', '/after-end'].entries()) {
      const c = await rawClient(t.port);
      c.write(GET(path));
      await waitForReleases(t, i + 1);
    }
    for (const released of t.releases) {
      expect(released).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'socket-error', error: { message: 'tunnel broke', code: 'ETUNNEL' } } });
    }
    expect(t.releases.map((c) => c.journal.map((j) => j.event.type))).toEqual([['ERROR'], ['HEADERS', 'ERROR']]);
  });

  it('a response already streaming (its progress recorded) that the client leaves → DATA then CLOSE in the journal: each fact once, none ignored by the registry', async () => {
    const t = await serve((req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(16 * 1024), () => t.instrumentation.connectionOf(req)!.progress(16 * 1024));
    });
    const c = await rawClient(t.port);
    c.write(GET());
    await waitFor(() => t.registry.list().some((entry) => entry.state === 'streaming'), 'the progress');
    c.destroy();
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE' } });
    expect(t.releases[0]!.journal.map((j) => j.event.type)).toEqual(['DATA', 'CLOSE']);
    expect(t.registry.stats().ignoredEvents).toBe(0);
  });

  it('connection.fail() before headers answers 503 with Connection: close, so the client does not reuse the socket', async () => {
    const t = await serve((req) => t.instrumentation.connectionOf(req)!.fail('timeout'));
    const r = await get(t.port, '/', { headers: { connection: 'keep-alive' } });
    expect(r.status).toBe(503);
    expect(r.headers.connection).toBe('close');
    await waitForReleases(t, 1);
    expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
  });

  it("track(req, res, { registry, meta }) on a plain server: transport http1, the meta kept; an explicit transport (TLS ended by a proxy) wins over the socket's", async () => {
    const registry = createRegistry<{ path: string }>();
    const released: ReleasedConnection<{ path: string }>[] = [];
    registry.onRelease((c) => released.push(c));
    const server = http.createServer((req, res) => {
      if (req.url === '/proxied') track(req, res, { registry, transport: 'https' });
      else track(req, res, { registry, meta: { path: req.url! } });
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      await get(port, '/report');
      await get(port, '/proxied');
      await waitFor(() => released.length === 2, 'releases');
      expect(released[0]).toMatchObject({ transport: 'http1', meta: { path: '/report' }, outcome: 'finished' });
      expect(released[1]).toMatchObject({ transport: 'https', meta: undefined, outcome: 'finished' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('HTTP/1: attaching late (fact 15)', () => {
  it('after end() but before finish: released at its own finish, not at attach time', async () => {
    const registry = createRegistry();
    const released: string[] = [];
    registry.onRelease((c) => released.push(c.outcome));
    let stateAtAttach: string | undefined;
    const server = http.createServer((req, res) => {
      res.end(BIG);
      const connection = track(req, res, { registry });
      stateAtAttach = connection.state;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const r = await get(port);
      expect(r.body.length).toBe(BIG.length);
      expect(stateAtAttach).toBe('open');
      await waitFor(() => released.length === 1, 'release');
      expect(released).toEqual(['finished']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a pipelined response still queued when its socket died, tracked only then → released at once as closed', async () => {
    const registry = createRegistry();
    const released: ReleasedConnection[] = [];
    registry.onRelease((c) => released.push(c));
    let queued: [http.IncomingMessage, http.ServerResponse] | undefined;
    const server = http.createServer((req, res) => {
      if (req.url === '/queued') queued = [req, res];
      // the head of the queue is never answered
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = await rawClient((server.address() as import('node:net').AddressInfo).port);
      c.write(GET('/head') + GET('/queued'));
      await waitFor(() => queued !== undefined, 'the queued request');
      const [req, res] = queued!;
      c.destroy();
      await waitFor(() => req.socket.closed, 'the socket to close');
      await new Promise((r) => setImmediate(r)); // whatever Node emits on the response for it has run
      track(req, res, { registry });
      expect(released).toHaveLength(1);
      expect(released[0]!.outcome).toBe('closed');
      expect(queuedDeathReasons).toContain((released[0]!.event as { reason: string }).reason);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a response whose socket the handler destroyed, tracked only then → released at once as closed (session-closed), over TCP and over a stream that closes later alike', async () => {
    const registry = createRegistry();
    const released: ReleasedConnection[] = [];
    registry.onRelease((c) => released.push(c));
    const atTrack: { via: string; released: number; socketClosed: boolean }[] = [];
    const server = http.createServer((req, res) => {
      req.socket.destroy();
      const socketClosed = req.socket.closed;
      track(req, res, { registry });
      atTrack.push({ via: req.url!, released: released.length, socketClosed });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = await rawClient((server.address() as import('node:net').AddressInfo).port);
      c.on('error', () => {});
      c.write(GET('/tcp'));
      await waitFor(() => atTrack.length === 1, 'the TCP request');
      // A socket handed to the server as a stream (as proxies and tunnels do) whose close comes a turn after destroy().
      const stream = new Duplex({
        read() {},
        write: (_chunk, _encoding, done) => done(),
        destroy: (error, done) => setImmediate(() => done(error)),
      });
      server.emit('connection', stream);
      stream.push(GET('/stream'));
      await waitFor(() => atTrack.length === 2, 'the request over the stream');
      expect(atTrack).toEqual([
        { via: '/tcp', released: 1, socketClosed: true },
        { via: '/stream', released: 2, socketClosed: false },
      ]);
      expect(released.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([
        ['closed', 'session-closed'],
        ['closed', 'session-closed'],
      ]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('after close already fired: released at once as closed; after finish: at once as finished', async () => {
    const registry = createRegistry();
    const released: string[] = [];
    registry.onRelease((c) => released.push(c.outcome));
    // What had been released right after each late track() call: collected in the listener, asserted below.
    const releasedAtTrack: string[][] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/closed') {
        res.on('close', () => {
          track(req, res, { registry });
          releasedAtTrack.push([...released]);
        });
        res.writeHead(200);
        res.write('x');
      } else {
        res.on('finish', () => {
          track(req, res, { registry });
          releasedAtTrack.push([...released]);
        });
        res.end('ok');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const c = await rawClient(port);
      c.write(GET('/closed'));
      await waitFor(() => c.received().length > 0, 'headers');
      c.destroy();
      await waitFor(() => released.length === 1, 'closed release');
      await get(port, '/finished');
      await waitFor(() => released.length === 2, 'finished release');
      expect(released).toEqual(['closed', 'finished']);
      expect(releasedAtTrack).toEqual([['closed'], ['closed', 'finished']]);
      expect(registry.size).toBe(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
