import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReleasedConnection } from '@lifeline/core';
import { h2connect } from './helpers/h2.js';
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
  const stopAll = () => timers.forEach(clearInterval);
  if (api === 'core') {
    t = await startHttp2({
      stream: (stream) => {
        sessions.add(stream.session!);
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
        req.stream.on('error', () => {});
        res.writeHead(200);
        const timer = setInterval(() => !res.destroyed && res.write('tick\n'), 20);
        timers.add(timer);
        res.on('close', () => clearInterval(timer));
      },
    });
  }
  return { server: t, stopAll, sessions };
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
