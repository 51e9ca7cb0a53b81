import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReleasedConnection } from '@lifeline/core';
import { h2connect } from './helpers/h2.js';
import { rawH2 } from './helpers/h2raw.js';
import { startHttp2, waitFor, type TestServer } from './helpers/server.js';

// When the client's whole session goes away with streams in flight, those streams did not finish:
// the peer left (`closed`), whatever Node leaves in rstCode / writableFinished at their `close`.

let t: TestServer<http2.Http2Server> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A server whose streams send a chunk every 20 ms and never end by themselves (SSE-like). */
async function streamingServer(api: 'core' | 'compat') {
  const timers = new Set<NodeJS.Timeout>();
  const sessions = new Set<http2.Http2Session>();
  const streams = new Set<http2.ServerHttp2Stream>();
  const stopAll = () => timers.forEach(clearInterval);
  if (api === 'core') {
    t = await startHttp2({
      stream: (stream) => {
        sessions.add(stream.session!);
        streams.add(stream);
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        const timer = setInterval(() => !stream.destroyed && stream.write('tick\n'), 20);
        timers.add(timer);
        stream.on('close', () => clearInterval(timer));
      },
    });
  } else {
    t = await startHttp2({
      request: (req, res) => {
        sessions.add(req.stream.session!);
        streams.add(req.stream);
        req.stream.on('error', () => {});
        res.writeHead(200);
        const timer = setInterval(() => !res.destroyed && res.write('tick\n'), 20);
        timers.add(timer);
        res.on('close', () => clearInterval(timer));
      },
    });
  }
  return { server: t, stopAll, sessions, streams };
}

async function openStreams(session: http2.ClientHttp2Session, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, k) => {
      const s = session.request({ ':path': `/s${k}` });
      s.on('error', () => {});
      return new Promise((resolve) => s.once('data', resolve));
    }),
  );
}

const endings = (releases: ReleasedConnection[]) => releases.map((c) => `${c.outcome}:${(c.event as { reason?: string }).reason ?? c.event.type}`);

for (const api of ['core', 'compat'] as const) {
  describe(`HTTP/2 (${api} API): the client's session goes away with streams in flight`, () => {
    it('the client destroys its session → every in-flight stream closed, none finished', async () => {
      const { server, stopAll } = await streamingServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 10);
      session.destroy();
      await waitFor(() => server.registry.size === 0 && server.releases.length === 10, 'all ten streams released');
      stopAll();
      // session-closed once the peer's GOAWAY has been seen; Node 20 closes some streams before it emits
      // the GOAWAY, and those are plain aborts: the peer left either way.
      for (const ending of endings(server.releases)) expect(['closed:session-closed', 'closed:aborted']).toContain(ending);
    });

    it('the client closes its session gracefully (GOAWAY) and then its socket goes → closed, none finished', async () => {
      const { server, stopAll } = await streamingServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 10);
      session.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      session.destroy();
      await waitFor(() => server.registry.size === 0 && server.releases.length === 10, 'all ten streams released');
      stopAll();
      expect(server.releases.every((c) => c.outcome === 'closed')).toBe(true);
    });

    it('the client destroys its session with an error code → closed (the peer left), not errored', async () => {
      const { server, stopAll } = await streamingServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 4);
      session.destroy(undefined, http2.constants.NGHTTP2_PROTOCOL_ERROR);
      await waitFor(() => server.registry.size === 0 && server.releases.length === 4, 'all four streams released');
      stopAll();
      expect(server.releases.map((c) => c.outcome)).toEqual(Array(4).fill('closed'));
    });

    // Node destroys a server session at once on a GOAWAY with an error code: its streams end with
    // ERR_HTTP2_SESSION_ERROR, before any FIN (the client's socket stays open here).
    it('the client sends GOAWAY with an error code and keeps its socket open → closed (session-closed), not errored', async () => {
      const { server, stopAll } = await streamingServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 2);
      session.goaway(http2.constants.NGHTTP2_PROTOCOL_ERROR);
      await waitFor(() => server.registry.size === 0 && server.releases.length === 2, 'both streams released');
      stopAll();
      session.destroy();
      expect(endings(server.releases)).toEqual(Array(2).fill('closed:session-closed'));
    });

    /** One stream open, then the client's graceful GOAWAY, awaited on the server's session. */
    const oneStreamAfterGracefulGoaway = async () => {
      const { server, stopAll, sessions, streams } = await streamingServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 1);
      const [serverSession] = [...sessions];
      const goaway = new Promise((resolve) => serverSession!.once('goaway', resolve));
      session.close();
      await goaway;
      return { server, stopAll, session, serverSession, streams };
    };

    // After a graceful GOAWAY from the client, Node closes the server session (closed, not destroyed) and
    // lets its streams run: one the application then destroys with an error failed on the server's side.
    it("after the client's graceful GOAWAY, a stream the application destroys with an error → errored (destroyed)", async () => {
      const { server, stopAll, session, streams } = await oneStreamAfterGracefulGoaway();
      for (const stream of streams) stream.destroy(new Error('backend gone'));
      await waitFor(() => server.registry.size === 0 && server.releases.length === 1, 'the stream released');
      stopAll();
      session.destroy();
      expect(server.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { message: 'backend gone' } } });
    });

    // Node resets the session's streams with the code the application passes, CANCEL included; the error is
    // still the application's own, not a peer's cancel.
    it("after the client's graceful GOAWAY, the application destroys the session with its own error and code CANCEL → errored (destroyed)", async () => {
      const { server, stopAll, session, serverSession } = await oneStreamAfterGracefulGoaway();
      serverSession!.destroy(new Error('backend gone'), http2.constants.NGHTTP2_CANCEL);
      await waitFor(() => server.registry.size === 0 && server.releases.length === 1, 'the stream released');
      stopAll();
      session.destroy();
      expect(server.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { message: 'backend gone' } } });
    });

    it('the application destroys the session with an error code → errored (the server ended it)', async () => {
      const { server, stopAll, sessions } = await streamingServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 4);
      expect(sessions.size).toBe(1);
      for (const serverSession of sessions) serverSession.destroy(undefined, http2.constants.NGHTTP2_INTERNAL_ERROR);
      await waitFor(() => server.registry.size === 0 && server.releases.length === 4, 'all four streams released');
      stopAll();
      session.destroy();
      expect(server.releases.map((c) => c.outcome)).toEqual(Array(4).fill('errored'));
    });
  });
}

/**
 * A server whose streams write once more exactly when Node, having flagged a stream `aborted`, ends its
 * writable side: the ordering a streaming timer hits by chance under load, here forced on every stream.
 * Collects the error each of those writes got.
 */
async function lateWriteServer(api: 'core' | 'compat') {
  const lateWriteErrors: (string | undefined)[] = [];
  const writeOnNodesEnd = (stream: http2.ServerHttp2Stream, write: (done: (error?: Error | null) => void) => void) => {
    stream.once('aborted', () => {
      // Node calls end() right after 'aborted'; the write goes in after that end, before the destroy. The failed
      // write marks the stream errored; Node destroys it with its session (reset code 0 on Node 20, CANCEL later).
      stream.end = function (this: http2.ServerHttp2Stream, ...args: unknown[]) {
        delete (stream as Partial<http2.ServerHttp2Stream>).end;
        const result = (this.end as (...a: unknown[]) => http2.ServerHttp2Stream)(...args);
        write((error) => lateWriteErrors.push((error as { code?: string } | null | undefined)?.code));
        return result;
      } as http2.ServerHttp2Stream['end'];
    });
  };
  if (api === 'core') {
    t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        stream.write('tick\n');
        writeOnNodesEnd(stream, (done) => stream.write('late\n', done));
      },
    });
  } else {
    t = await startHttp2({
      request: (req, res) => {
        req.stream.on('error', () => {});
        res.writeHead(200);
        res.write('tick\n');
        writeOnNodesEnd(req.stream, (done) => res.write('late\n', done));
      },
    });
  }
  return { server: t, lateWriteErrors };
}

for (const api of ['core', 'compat'] as const) {
  describe(`HTTP/2 (${api} API): the application writes after Node ended a stream its peer cut`, () => {
    it('a write failing with write-after-end between the cut and the destroy leaves the stream closed (session-closed), not errored', async () => {
      const { server, lateWriteErrors } = await lateWriteServer(api);
      const session = await h2connect(server.port);
      await openStreams(session, 4);
      session.destroy();
      await waitFor(() => server.registry.size === 0 && server.releases.length === 4 && lateWriteErrors.length === 4, 'all four streams released');
      expect(lateWriteErrors).toEqual(Array(4).fill('ERR_STREAM_WRITE_AFTER_END'));
      expect(endings(server.releases)).toEqual(Array(4).fill('closed:session-closed'));
    });
  });
}

/** A core-API server whose streams answer their head and one chunk, then stay open; `arrived()` counts the chunks written. */
async function openStreamServer() {
  let arrived = 0;
  t = await startHttp2({
    stream: (stream) => {
      stream.on('error', () => {});
      stream.respond({ ':status': 200 });
      stream.write('partial', () => arrived++);
    },
  });
  return { server: t, arrived: () => arrived };
}

describe("HTTP/2: the client's connection goes without a GOAWAY", () => {
  // A FIN alone (no GOAWAY first): Node's server socket ends in turn and its session is destroyed with no
  // error, its streams reset with CANCEL. node:http2's client always sends a GOAWAY first, so a raw client does it.
  it('the client ends its TCP connection (FIN) with a stream in flight → closed (session-closed), not errored', async () => {
    const { server, arrived } = await openStreamServer();
    const client = await rawH2(server.port);
    client.post(1);
    await waitFor(() => arrived() === 1, 'the stream answered');
    client.fin();
    await waitFor(() => server.releases.length === 1, 'the stream released');
    client.destroy();
    expect(endings(server.releases)).toEqual(['closed:session-closed']);
  });

  // With allowHalfOpen the server keeps its side of the socket open after the client's FIN, so Node neither
  // closes nor destroys the session: a stream the application cuts then (here stream.close(), code 0) ends
  // while the session looks alive. The peer had left first: the session went, not the stream.
  it('the client ends its TCP connection (FIN) on a half-open server, then the application closes the stream → closed (session-closed)', async () => {
    const streams: http2.ServerHttp2Stream[] = [];
    let finSeen = false;
    t = await startHttp2(
      {
        stream: (stream) => {
          stream.on('error', () => {});
          stream.session!.socket.once('end', () => (finSeen = true));
          stream.respond({ ':status': 200 });
          stream.write('partial', () => streams.push(stream));
        },
      },
      {},
      { allowHalfOpen: true },
    );
    const client = await rawH2(t.port);
    client.post(1);
    await waitFor(() => streams.length === 1, 'the stream answered');
    client.fin();
    await waitFor(() => finSeen, "the server saw the client's FIN");
    const sessionAlive = !streams[0]!.session!.closed && !streams[0]!.session!.destroyed;
    streams[0]!.close();
    await waitFor(() => t!.releases.length === 1, 'the stream released');
    client.destroy();
    expect(sessionAlive).toBe(true);
    expect(endings(t.releases)).toEqual(['closed:session-closed']);
  });

  // A TCP reset: Node destroys the session with ECONNRESET and resets its streams with INTERNAL_ERROR;
  // the session is gone, not only the stream.
  it('the TCP connection is reset with a stream in flight → closed (session-closed), not a stream reset', async () => {
    const { server, arrived } = await openStreamServer();
    const client = await rawH2(server.port);
    client.post(1);
    await waitFor(() => arrived() === 1, 'the stream answered');
    client.resetConnection();
    await waitFor(() => server.releases.length === 1, 'the stream released');
    expect(endings(server.releases)).toEqual(['closed:session-closed']);
  });
});

describe('HTTP/2: the session ends after a response was sent in full, with the upload still open', () => {
  // The stream is half-closed: Node keeps it open (it read the request body) until the client's side ends.
  // When the application destroys the session then, Node closes the stream with no error and code 0.
  it('the application destroys the session → errored (destroyed), not finished', async () => {
    const sessions = new Set<http2.Http2Session>();
    let answered = 0;
    t = await startHttp2({
      stream: (stream) => {
        sessions.add(stream.session!);
        stream.resume();
        stream.respond({ ':status': 200 });
        stream.end('answer', () => answered++);
      },
    });
    const session = await h2connect(t.port);
    const upload = session.request({ ':path': '/', ':method': 'POST' }, { endStream: false });
    upload.on('error', () => {});
    upload.write('part of the body');
    await waitFor(() => answered === 1, 'the response sent in full');
    for (const serverSession of sessions) serverSession.destroy();
    await waitFor(() => t!.releases.length === 1, 'the stream released');
    session.destroy();
    expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed' } });
  });
});
