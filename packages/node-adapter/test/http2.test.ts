import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { connectionOf, type Connection, type RequestInfo } from '../src/index.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { rawH2 } from './helpers/h2raw.js';
import { sleep, startHttp2, waitFor, waitForReleases } from './helpers/server.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** A body big enough to be seen mid-flight, small enough to fit in one flow-control window. */
const FIRST_CHUNK = 'x'.repeat(1024);

/** Starts a request and resolves at its first DATA frame, with the client stream still open. */
function requestUntilFirstData(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': '/' });
    stream.on('error', () => {});
    stream.once('data', () => resolve(stream));
  });
}

describe('HTTP/2 over a real 127.0.0.1 socket', () => {
  it('core API: a stream answered in full is released once as finished', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end('hello');
      },
    });
    const session = await h2connect(t.port);
    try {
      const r = await h2request(session);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello');
      expect(r.ended).toBe(true);
      await waitForReleases(t, 1);
      await sleep(20);
      expect(t.releases.map((c) => [c.outcome, c.transport])).toEqual([['finished', 'http2']]);
      expect(t.releases[0]!.event.type).toBe('FINISH');
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it("meta(request) gets a stream's method, path and headers (its pseudo-headers among them), and what it returns is kept", async () => {
    const infos: RequestInfo[] = [];
    const t = await startHttp2(
      {
        stream: (stream) => {
          stream.respond({ ':status': 204 });
          stream.end();
        },
      },
      {
        meta: (info) => {
          infos.push(info);
          return `${info.method} ${info.url}`;
        },
      },
    );
    const session = await h2connect(t.port);
    try {
      await h2request(session, { ':method': 'POST', ':path': '/upload?part=1', 'x-trace': 'abc' }, 'body');
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.transport, c.meta])).toEqual([['http2', 'POST /upload?part=1']]);
      expect(infos).toHaveLength(1);
      expect(infos[0]).toMatchObject({ method: 'POST', url: '/upload?part=1', headers: { ':authority': `127.0.0.1:${t.port}`, 'x-trace': 'abc' } });
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('compat API: res.end() → finished; several requests on one session are released one each', async () => {
    const t = await startHttp2({ request: (req, res) => res.end(`path=${req.url}`) });
    const session = await h2connect(t.port);
    try {
      const [a, b] = await Promise.all([h2request(session, { ':path': '/a' }), h2request(session, { ':path': '/b' })]);
      expect([a.body.toString(), b.body.toString()]).toEqual(['path=/a', 'path=/b']);
      await waitForReleases(t, 2);
      await sleep(20);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished', 'finished']);
      expect(new Set(t.releases.map((c) => c.id)).size).toBe(2);
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().opened).toBe(2);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('client RST_STREAM CANCEL mid-body → closed (cancelled), although the compat response emits finish', async () => {
    let resFinished = false;
    const t = await startHttp2({
      request: (_req, res) => {
        res.on('finish', () => (resFinished = true));
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(FIRST_CHUNK); // and never end
      },
    });
    const session = await h2connect(t.port);
    try {
      const clientStream = await requestUntilFirstData(session);
      clientStream.close(NGHTTP2_CANCEL);
      await waitForReleases(t, 1);
      await waitFor(() => resFinished, "the compat response's finish");
      await sleep(20);
      expect(resFinished).toBe(true); // Node's compat layer emits 'finish' on a cancelled stream
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
      expect(t.releases[0]!.event).toMatchObject({ type: 'CLOSE', reason: 'cancelled' });
      expect(t.releases[0]!.journal.map((j) => j.event.type)).toContain('HEADERS');
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('core API: client RST_STREAM CANCEL mid-body → closed (cancelled)', async () => {
    let serverRst: number | undefined;
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('close', () => (serverRst = stream.rstCode));
        stream.respond({ ':status': 200 });
        stream.write(FIRST_CHUNK);
      },
    });
    const session = await h2connect(t.port);
    try {
      const clientStream = await requestUntilFirstData(session);
      clientStream.close(NGHTTP2_CANCEL);
      await waitForReleases(t, 1);
      expect(serverRst).toBe(NGHTTP2_CANCEL);
      expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'cancelled' } });
      expect(t.registry.size).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('client session destroyed mid-body → closed (session-closed)', async () => {
    const t = await startHttp2({
      request: (_req, res) => {
        res.writeHead(200);
        res.write(FIRST_CHUNK);
      },
    });
    const session = await h2connect(t.port);
    try {
      await requestUntilFirstData(session);
      await h2close(session);
      await waitForReleases(t, 1);
      await sleep(20);
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
      expect(t.releases[0]!.event).toMatchObject({ type: 'CLOSE', reason: 'session-closed' });
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('server session.close() (GOAWAY) with a stream in flight: the stream completes → finished', async () => {
    let sessionClosed = false;
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200 });
        stream.write(FIRST_CHUNK);
        stream.session!.close(() => (sessionClosed = true)); // graceful: GOAWAY, in-flight streams may finish
        setTimeout(() => stream.end('tail'), 30);
      },
    });
    const session = await h2connect(t.port);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    try {
      const r = await h2request(session);
      expect(r.ended).toBe(true);
      expect(r.body.toString()).toBe(FIRST_CHUNK + 'tail');
      await waitForReleases(t, 1);
      await waitFor(() => sessionClosed, 'the server session to close');
      expect(goaway).toBe(true);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(t.registry.size).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  // Node records no code or error on the stream when the app destroys the session under it, so any
  // application-side session destroy with streams in flight counts as the server ending them.
  it('server session.destroy() by the application with a stream in flight → errored (destroyed)', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200 });
        stream.write(FIRST_CHUNK, () => setTimeout(() => stream.session!.destroy(), 10));
      },
    });
    const session = await h2connect(t.port);
    try {
      const r = await h2request(session);
      expect(r.body.toString()).toBe(FIRST_CHUNK);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed' } });
      expect(t.registry.size).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('server session.destroy(error) by the application with a stream in flight → errored (destroyed), with that error', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        stream.write(FIRST_CHUNK, () => setTimeout(() => stream.session!.destroy(Object.assign(new Error('backend gone'), { code: 'EBACKEND' })), 10));
      },
    });
    t.server.on('session', (s) => s.on('error', () => {}));
    const session = await h2connect(t.port);
    try {
      await h2request(session);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { message: 'backend gone', code: 'EBACKEND' } } });
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('connectionOf(req), connectionOf(res) and connectionOf(req.stream) give the same handle in a compat handler', async () => {
    const seen: { req?: Connection; res?: Connection; stream?: Connection; fromInstrumentation?: Connection } = {};
    const t = await startHttp2({
      request: (req, res) => {
        seen.req = connectionOf(req);
        seen.res = connectionOf(res);
        seen.stream = connectionOf(req.stream);
        seen.fromInstrumentation = t.instrumentation.connectionOf(req);
        res.end('ok');
      },
    });
    const session = await h2connect(t.port);
    try {
      await h2request(session);
      await waitForReleases(t, 1);
      expect(seen.req).toBeDefined();
      expect(seen.res).toBe(seen.req);
      expect(seen.stream).toBe(seen.req);
      expect(seen.fromInstrumentation).toBe(seen.req);
      expect(seen.req!.id).toBe(t.releases[0]!.id);
      expect(seen.req!.transport).toBe('http2');
      expect(seen.req!.outcome).toBe('finished');
      expect(t.registry.size).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('server stream.destroy(new Error("x")) → errored (destroyed) with the error', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {}); // as an application would; else Node throws it
        stream.respond({ ':status': 200 });
        stream.write(FIRST_CHUNK, () => stream.destroy(new Error('x')));
      },
    });
    const session = await h2connect(t.port);
    try {
      const r = await h2request(session);
      expect(r.ended).toBe(false);
      expect(r.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
      await waitForReleases(t, 1);
      await sleep(20);
      expect(t.releases.map((c) => c.outcome)).toEqual(['errored']);
      expect(t.releases[0]!.event).toMatchObject({ type: 'ERROR', reason: 'destroyed', error: { message: 'x' } });
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });
  describe("a stream's own timeout (stream.setTimeout, or the compat request's and response's)", () => {
    /** Runs `arm` on each stream, requests once, and returns the release once the stream has ended. */
    async function endingWith(handlers: Parameters<typeof startHttp2>[0], client: (stream: http2.ClientHttp2Stream) => void, prependAfterInstrument = false) {
      const t = await startHttp2(prependAfterInstrument ? {} : handlers);
      if (prependAfterInstrument) t.server.prependListener('stream', handlers.stream!);
      const session = await h2connect(t.port);
      try {
        client(await requestUntilFirstData(session));
        await waitForReleases(t, 1);
        expect(t.registry.size).toBe(0);
        return t.releases[0]!;
      } finally {
        await h2close(session);
        await t.close();
      }
    }
    const cancelOnTimeout = (stream: http2.ServerHttp2Stream) => stream.setTimeout(30, () => stream.close(NGHTTP2_CANCEL));
    const leaveOpen = () => {};

    it('core API: a stream the application cancels when its timeout fires → errored (timeout)', async () => {
      const release = await endingWith({
        stream: (stream) => {
          stream.respond({ ':status': 200 });
          stream.write(FIRST_CHUNK);
          cancelOnTimeout(stream);
        },
      }, leaveOpen);
      expect(release).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
    });

    it('compat API: res.setTimeout whose callback closes the stream → errored (timeout)', async () => {
      const release = await endingWith({
        request: (_req, res) => {
          res.writeHead(200);
          res.write(FIRST_CHUNK);
          res.setTimeout(30, () => res.stream.close(NGHTTP2_CANCEL));
        },
      }, leaveOpen);
      expect(release).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
    });

    it('a timeout armed before the stream was tracked is still seen → errored (timeout)', async () => {
      const release = await endingWith({
        stream: (stream) => {
          cancelOnTimeout(stream);
          stream.respond({ ':status': 200 });
          stream.write(FIRST_CHUNK);
        },
      }, leaveOpen, true);
      expect(release).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
    });

    it('a timeout armed but not yet fired when the client cancels is no timeout → closed (cancelled)', async () => {
      const release = await endingWith({
        stream: (stream) => {
          stream.respond({ ':status': 200 });
          stream.write(FIRST_CHUNK);
          stream.setTimeout(60_000);
        },
      }, (clientStream) => clientStream.close(NGHTTP2_CANCEL));
      expect(release).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'cancelled' } });
    });

    // The adapter's 'timeout' listener is per-stream cost, so it goes on only once a timeout can fire.
    it("a stream's 'timeout' gets no listener while no timeout is armed, and one however often it is re-armed", async () => {
      const counts: number[] = [];
      const release = await endingWith({
        stream: (stream) => {
          counts.push(stream.listenerCount('timeout'));
          stream.setTimeout(0); // disarms: nothing to fire
          counts.push(stream.listenerCount('timeout'));
          stream.setTimeout(60_000);
          counts.push(stream.listenerCount('timeout'));
          stream.setTimeout(30_000);
          counts.push(stream.listenerCount('timeout'));
          stream.respond({ ':status': 200 });
          stream.write(FIRST_CHUNK);
        },
      }, (clientStream) => clientStream.close(NGHTTP2_CANCEL));
      expect(counts).toEqual([0, 0, 1, 1]);
      expect(release).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'cancelled' } });
    });

    it('a timeout armed and disarmed before the stream was tracked leaves it with no timeout listener', async () => {
      const counts: number[] = [];
      const t = await startHttp2({ stream: (stream) => counts.push(stream.listenerCount('timeout')) });
      t.server.prependListener('stream', (stream) => {
        stream.setTimeout(60_000);
        stream.setTimeout(0);
      });
      const session = await h2connect(t.port);
      try {
        const clientStream = session.request({ ':path': '/' });
        clientStream.on('error', () => {});
        await waitFor(() => counts.length === 1, 'the stream tracked');
        clientStream.close(NGHTTP2_CANCEL);
        await waitForReleases(t, 1);
        expect(counts).toEqual([0]);
      } finally {
        await h2close(session);
        await t.close();
      }
    });

    // Another library may wrap the stream's setTimeout before the adapter sees the stream (an APM agent,
    // a second copy of the adapter): its wrapper stays in place, and the timeout it arms still counts.
    it("a setTimeout another library set on the stream before tracking is kept, and the timeout it arms → errored (timeout)", async () => {
      const wrapped: number[] = [];
      const release = await endingWith({
        stream: (stream) => {
          stream.setTimeout = function (this: http2.ServerHttp2Stream, msecs: number, callback?: () => void) {
            wrapped.push(msecs);
            return Object.getPrototypeOf(this).setTimeout.call(this, msecs, callback);
          } as http2.ServerHttp2Stream['setTimeout'];
          // The application's own handler runs after the adapter's, as it does when added after instrument().
          process.nextTick(() => {
            stream.respond({ ':status': 200 });
            stream.write(FIRST_CHUNK);
            cancelOnTimeout(stream);
          });
        },
      }, leaveOpen, true);
      expect(wrapped).toContain(30);
      expect(release).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
    });
  });
});

describe('HTTP/2 sessions', () => {
  it("a session carries the same number of the adapter's listeners after one stream and after many", async () => {
    const sessions = new Set<http2.Http2Session>();
    const t = await startHttp2({
      stream: (stream) => {
        sessions.add(stream.session!);
        stream.respond({ ':status': 204 }, { endStream: true });
      },
    });
    const session = await h2connect(t.port);
    try {
      await h2request(session);
      const [serverSession] = [...sessions];
      const afterOne = serverSession!.listenerCount('goaway');
      for (let i = 0; i < 5; i++) await h2request(session);
      await waitForReleases(t, 6);
      expect(sessions.size).toBe(1);
      expect(serverSession!.listenerCount('goaway')).toBe(afterOne);
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});

describe('HTTP/2 resets the peer sends', () => {
  it('a peer RST_STREAM with INTERNAL_ERROR is the peer leaving (closed, reset), not a server failure', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        stream.write('partial');
      },
    });
    const session = await h2connect(t.port);
    try {
      const req = session.request({ ':path': '/' });
      req.on('error', () => {});
      req.once('data', () => req.close(NGHTTP2_INTERNAL_ERROR));
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'reset' } });
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});

describe('HTTP/2: the client resets a stream whose response was sent in full, its upload still open', () => {
  // Node keeps such a half-closed stream open while it reads the request body; the client's RST_STREAM then
  // closes it with that code, not aborted (the server's side had ended). node:http2's client ends its side of a
  // stream before resetting it, so a raw client sends the frames. The reset code decides, as for any reset.
  it('RST_STREAM CANCEL → closed (cancelled) and RST_STREAM INTERNAL_ERROR → closed (reset); neither finished', async () => {
    let answered = 0;
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.resume();
        stream.respond({ ':status': 200 });
        stream.end('answer', () => answered++);
      },
    });
    const client = await rawH2(t.port);
    try {
      client.post(1);
      await waitFor(() => answered === 1, 'the first response sent in full');
      client.reset(1, NGHTTP2_CANCEL);
      await waitForReleases(t, 1);
      client.post(3);
      await waitFor(() => answered === 2, 'the second response sent in full');
      client.reset(3, NGHTTP2_INTERNAL_ERROR);
      await waitForReleases(t, 2);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([
        ['closed', 'cancelled'],
        ['closed', 'reset'],
      ]);
    } finally {
      client.destroy();
      await t.close();
    }
  });
});

describe("HTTP/2: the journal's HEADERS", () => {
  it('a stream the client cancels before any response has no HEADERS in its journal', async () => {
    let arrived = 0;
    const t = await startHttp2({ stream: () => arrived++ });
    const session = await h2connect(t.port);
    try {
      const clientStream = session.request({ ':path': '/' });
      clientStream.on('error', () => {});
      await waitFor(() => arrived === 1, 'the stream arrived');
      clientStream.close(NGHTTP2_CANCEL);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE', reason: 'cancelled' } });
      expect(t.releases[0]!.journal.map((j) => j.event.type)).toEqual(['CLOSE']);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('an application that records HEADERS itself (with its status) gets no second one from the adapter', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 206 });
        t.registry.dispatch(connectionOf(stream)!.id, { type: 'HEADERS', status: 206 });
        stream.write(FIRST_CHUNK);
      },
    });
    const session = await h2connect(t.port);
    try {
      const clientStream = await requestUntilFirstData(session);
      clientStream.close(NGHTTP2_CANCEL);
      await waitForReleases(t, 1);
      expect(t.releases[0]!.journal.map((j) => j.event)).toEqual([{ type: 'HEADERS', status: 206 }, { type: 'CLOSE', reason: 'cancelled' }]);
      expect(t.registry.stats().ignoredEvents).toBe(0);
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});
