// The server ending an HTTP/2 stream itself: connection.fail(), the watchdog and drain answer a
// stream that has sent nothing and reset one that has started; a stream's own timeout is the server's.
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { connectionOf, drain } from '../src/index.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { startHttp2, waitFor, waitForReleases } from './helpers/server.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

describe('HTTP/2: the server ends a stream', () => {
  it('fail() before headers answers with END_STREAM: 503 for timeout and shutdown, 500 for any other reason; errored with that reason', async () => {
    const t = await startHttp2({
      stream: (stream, headers) => {
        const reason = String(headers[':path']).slice(1) as 'timeout' | 'shutdown' | 'handler-error';
        connectionOf(stream)!.fail(reason);
      },
    });
    const session = await h2connect(t.port);
    try {
      const answers = await Promise.all(['/timeout', '/shutdown', '/handler-error'].map((path) => h2request(session, { ':path': path })));
      expect(answers.map((r) => [r.status, r.ended, r.rstCode])).toEqual([
        [503, true, NGHTTP2_NO_ERROR],
        [503, true, NGHTTP2_NO_ERROR],
        [500, true, NGHTTP2_NO_ERROR],
      ]);
      await waitForReleases(t, 3);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason]).sort()).toEqual([
        ['errored', 'handler-error'],
        ['errored', 'shutdown'],
        ['errored', 'timeout'],
      ]);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('drain at its deadline answers a stream that sent nothing with 503 and resets a started one with INTERNAL_ERROR: both errored (shutdown)', async () => {
    let arrived = 0;
    const t = await startHttp2({
      stream: (stream, headers) => {
        arrived++;
        // A core-API app without an error listener: the adapter's own reset must not crash it.
        if (headers[':path'] === '/started') {
          stream.respond({ ':status': 200 });
          stream.write('partial');
        }
      },
    });
    const session = await h2connect(t.port);
    try {
      const answers = Promise.all([h2request(session, { ':path': '/silent' }), h2request(session, { ':path': '/started' })]);
      await waitFor(() => arrived === 2 && t.registry.size === 2, 'both streams in flight');
      const result = await drain(t.registry, { deadline: 50 });
      expect(result).toEqual({ drained: 0, forced: 2 });
      const [silent, started] = await answers;
      expect([silent.status, silent.ended, silent.rstCode]).toEqual([503, true, NGHTTP2_NO_ERROR]);
      expect([started.status, started.ended, started.body.toString(), started.rstCode]).toEqual([200, false, 'partial', NGHTTP2_INTERNAL_ERROR]);
      await waitForReleases(t, 2);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([
        ['errored', 'shutdown'],
        ['errored', 'shutdown'],
      ]);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('fail() right after the application destroyed the stream records the failure and throws nothing', async () => {
    const thrown: unknown[] = [];
    const t = await startHttp2({
      stream: (stream) => {
        stream.destroy();
        try {
          connectionOf(stream)!.fail('handler-error');
        } catch (error) {
          thrown.push(error);
        }
      },
    });
    const session = await h2connect(t.port);
    try {
      await h2request(session);
      await waitForReleases(t, 1);
      expect(thrown).toEqual([]);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([['errored', 'handler-error']]);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it("a stream ended by the app's handler of the stream's own timeout is errored (timeout), not a reset by the client", async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200 });
        stream.write('partial');
        stream.setTimeout(50, () => stream.close(NGHTTP2_CANCEL));
      },
    });
    const session = await h2connect(t.port);
    try {
      expect((await h2request(session)).status).toBe(200);
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([['errored', 'timeout']]);
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});
