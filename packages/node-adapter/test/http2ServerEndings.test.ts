// The server ending an HTTP/2 stream itself: connection.fail(), the watchdog and drain answer a
// stream that has sent nothing and reset one that has started; a stream's own timeout is the server's.
import http2 from 'node:http2';
import { addAbortSignal } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '@lifeline/core';
import { connectionOf, drain, track } from '../src/index.js';
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

  it("fail() before headers on a compat request answers through the compat response: its statusCode is the status sent, the handler's staged headers are dropped, the body says why", async () => {
    // Access loggers (morgan, pino-http, on-finished users) read res.statusCode when the response ends: it
    // must be the status the client got, not the 200 the compat response started with.
    const logged: [number, boolean][] = [];
    const t = await startHttp2({
      request: (req, res) => {
        res.setHeader('content-length', '1234');
        res.setHeader('content-encoding', 'gzip');
        res.on('finish', () => logged.push([res.statusCode, res.headersSent]));
        const reason = String(req.url).slice(1) as 'timeout' | 'handler-error';
        connectionOf(req)!.fail(reason);
      },
    });
    const session = await h2connect(t.port);
    try {
      const answers = await Promise.all(['/timeout', '/handler-error'].map((path) => h2request(session, { ':path': path })));
      expect(answers.map((r) => [r.status, r.ended, r.rstCode, r.body.toString(), r.headers['content-length'], r.headers['content-encoding']])).toEqual([
        [503, true, NGHTTP2_NO_ERROR, 'Service Unavailable\n', '20', undefined],
        [500, true, NGHTTP2_NO_ERROR, 'Internal Server Error\n', '22', undefined],
      ]);
      await waitForReleases(t, 2);
      expect(logged.sort()).toEqual([
        [500, true],
        [503, true],
      ]);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason]).sort()).toEqual([
        ['errored', 'handler-error'],
        ['errored', 'timeout'],
      ]);
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  it('the same through track(req, res) on a server that is not instrumented: the compat response is answered, its statusCode is the 500 sent', async () => {
    const registry = createRegistry();
    const logged: number[] = [];
    const server = http2.createServer((req, res) => {
      res.on('finish', () => logged.push(res.statusCode));
      track(req, res, { registry }).fail('handler-error');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = await h2connect((server.address() as { port: number }).port);
    try {
      const answer = await h2request(session);
      expect([answer.status, answer.body.toString()]).toEqual([500, 'Internal Server Error\n']);
      await waitFor(() => logged.length === 1 && registry.size === 0, 'the response to finish and the connection to be released');
      expect(logged).toEqual([500]);
    } finally {
      await h2close(session);
      await new Promise((resolve) => server.close(resolve));
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

describe('HTTP/2: the application destroys a started stream with its own error', () => {
  // Node resets a stream destroyed with an AbortError with CANCEL, the code a client's cancel has; the error
  // is the application's own, so the stream failed on the server's side.
  it('an AbortError of its own (addAbortSignal) → errored (destroyed), although the client sees RST_STREAM CANCEL', async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        const controller = new AbortController();
        addAbortSignal(controller.signal, stream);
        stream.write('partial', () => controller.abort());
      },
    });
    const session = await h2connect(t.port);
    try {
      const answer = await h2request(session);
      await waitForReleases(t, 1);
      expect([answer.status, answer.body.toString(), answer.rstCode]).toEqual([200, 'partial', NGHTTP2_CANCEL]);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { name: 'AbortError' } } });
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  // The client's cancel came first, but the application chose to destroy the stream with an error of its own: that
  // error is what the stream ended with, as it is after a client's reset with any other code.
  it("its own error from an 'aborted' listener, after the client's RST_STREAM CANCEL → errored (destroyed), not cancelled", async () => {
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.on('aborted', () => stream.destroy(new Error('client went away')));
        stream.respond({ ':status': 200 });
        stream.write('partial');
      },
    });
    const session = await h2connect(t.port);
    try {
      const clientStream = session.request({ ':path': '/' });
      clientStream.on('error', () => {});
      await new Promise((resolve) => clientStream.once('data', resolve));
      clientStream.close(NGHTTP2_CANCEL);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { message: 'client went away' } } });
    } finally {
      await h2close(session);
      await t.close();
    }
  });

  // A proxy that closes the stream (code 0) and, in the same turn, destroys it with the error of its upstream
  // HTTP/2 stream: that error carries the code Node gives a reset, but this stream's reset code stays 0.
  it("an error with a reset's code (ERR_HTTP2_STREAM_ERROR) on a stream it closed with code 0 → errored (destroyed), not a reset", async () => {
    const rstCodes: (number | undefined)[] = [];
    const t = await startHttp2({
      stream: (stream) => {
        stream.on('error', () => {});
        stream.on('close', () => rstCodes.push(stream.rstCode));
        stream.respond({ ':status': 200 });
        stream.write('partial');
        const upstreamError = Object.assign(new Error('Stream closed with error code NGHTTP2_INTERNAL_ERROR'), { code: 'ERR_HTTP2_STREAM_ERROR' });
        stream.close();
        stream.destroy(upstreamError);
      },
    });
    const session = await h2connect(t.port);
    try {
      await h2request(session);
      await waitForReleases(t, 1);
      expect(rstCodes).toEqual([NGHTTP2_NO_ERROR]);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'destroyed', error: { code: 'ERR_HTTP2_STREAM_ERROR' } } });
    } finally {
      await h2close(session);
      await t.close();
    }
  });
});
