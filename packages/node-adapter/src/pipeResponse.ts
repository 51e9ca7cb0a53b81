import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { finished, pipeline, Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { InvalidOptionsError, type ConnectionOutcome } from '@lifeline/core';
import { checkOptionsArgument, invalidArgument, isResponse } from './invalidArgument.js';
import { answerPlain, nothingSent } from './plainAnswer.js';
import { connectionOf } from './track.js';

/** What a `pipeResponse` or `sendFile` call did. Once its arguments are valid it never rejects: every error is in here and on the connection. */
export interface SendResult {
  /** The status code sent (or that would have been sent): 500 when the source failed before its first chunk. */
  readonly status: number;
  /** Body bytes read from the source and handed to the response. */
  readonly bytes: number;
  /** The connection's outcome if it has ended by now and the response is tracked. */
  readonly outcome: ConnectionOutcome | undefined;
  /** The source's error, the response's, or why the file could not be served. */
  readonly error?: Error;
}

/**
 * Progress is recorded every 256 KiB or every 250 ms of streaming, whichever
 * comes first: often enough that a slow but live download is never stale to
 * the watchdog, rarely enough that the journal keeps more than DATA events.
 */
const PROGRESS_STEP = 256 * 1024;
const PROGRESS_INTERVAL_MS = 250;

type Response = ServerResponse | Http2ServerResponse;

/**
 * Streams `source` into `res` with `stream.pipeline`, mapping every failure
 * onto the response's tracked connection: a source error ends it as `errored`
 * (`stream-error`, with the error's code), as `connection.fail()` does: before
 * the source's first chunk (nothing sent yet) the client gets a whole 500 and
 * the result says `status: 500`; after it the response is cut. A client that
 * leaves ends it as `closed` and destroys the source. With `expectedBytes`, a
 * source that ends early is a `stream-error` too (code `LIFELINE_SHORT_READ`),
 * never a response that silently hangs short of its Content-Length. A response
 * nobody tracks gets the same 500 or cut. Rejects only for bad arguments,
 * before touching either stream: an `InvalidArgumentError` for `res` or
 * `source`, an `InvalidOptionsError` for bad options.
 *
 * @example
 * ```ts
 * const upstream = await fetch(url, { signal: connectionOf(res)?.signal });
 * const { outcome, error } = await pipeResponse(res, upstream.body!); // a web ReadableStream or a Node Readable
 * ```
 */
export function pipeResponse(
  res: Response,
  source: Readable | ReadableStream<Uint8Array>,
  options: { expectedBytes?: number } = {},
): Promise<SendResult> {
  let expected: number | undefined;
  try {
    if (!isResponse(res)) {
      throw invalidArgument('pipeResponse', 'res', 'the response of a request handler', res, 'Call pipeResponse(res, source) with the handler\'s own res.');
    }
    if (!(source instanceof Readable) && typeof (source as { getReader?: unknown } | null)?.getReader !== 'function') {
      throw invalidArgument(
        'pipeResponse',
        'source',
        'a Node Readable or a web ReadableStream',
        source,
        'Pass a stream, e.g. fs.createReadStream(path) or (await fetch(url)).body.',
      );
    }
    checkOptionsArgument('pipeResponse', options);
    for (const key of Object.keys(options ?? {})) {
      if (key !== 'expectedBytes') throw new InvalidOptionsError(`pipeResponse: unknown option "${key}"`, [key]);
    }
    expected = options?.expectedBytes;
    if (expected !== undefined && !(Number.isSafeInteger(expected) && expected >= 0)) {
      throw new InvalidOptionsError(`pipeResponse: option "expectedBytes": expected a whole number of bytes >= 0, got ${expected}`, ['expectedBytes']);
    }
  } catch (error) {
    return Promise.reject(error as Error);
  }
  // A fetch() body is a web ReadableStream: the same pipeline serves it once wrapped.
  const readable = source instanceof Readable ? source : Readable.fromWeb(source as never);
  return streamInto(res, readable, expected);
}

function streamInto(res: Response, source: Readable, expectedBytes: number | undefined): Promise<SendResult> {
  const connection = connectionOf(res);
  let bytes = 0;
  let reported = 0;
  let reportedAt = Date.now();
  let sourceError: Error | undefined;
  /** Set when the source failed before anything was sent and this call answered 500 in its place. */
  let answered: number | undefined;
  /** Set once this call destroys the source itself: its close is then no failure. */
  let stopping = false;
  return new Promise<SendResult>((resolve) => {
    // Called by pipeline and by stopSource, often both: the first call decides the result (a promise
    // resolves once) and off() is safe to call again.
    const settle = (error: Error | null | undefined) => {
      off();
      const reported = sourceError ?? error;
      resolve({ status: answered ?? res.statusCode, bytes, outcome: connection?.outcome, ...(reported ? { error: reported } : {}) });
    };
    /** Destroys the source (closing its file) and settles once it has closed. */
    const stopSource = () => {
      stopping = true;
      if (source.closed) return settle(undefined);
      source.once('close', () => settle(undefined));
      source.destroy();
    };
    // However the connection ends (a client gone, a queued pipelined response whose socket died, the
    // watchdog, drain, fail()), the source is destroyed and the call settles once it has closed.
    // pipeline's own callback is not enough: it waits for the response to close, and a queued
    // pipelined response on Node 20/22 never does.
    const stopOnEnd = (outcome: ConnectionOutcome | undefined) => {
      if (outcome !== 'finished') stopSource();
    };
    const off = connection !== undefined ? connection.onEnd(stopOnEnd) : onUntrackedResponseGone(res, () => stopOnEnd(undefined));
    /**
     * The source failed (an error, or fewer bytes than expected); the first failure is the result's error.
     * As `fail()` does: a 500 if nothing was sent, otherwise the response is cut, with the error (HTTP/2
     * then resets the stream with INTERNAL_ERROR, where a destroy without one closes it cleanly).
     */
    const failed = (error: Error) => {
      sourceError ??= error;
      const unanswered = nothingSent(res);
      // Noted first: fail() ends the connection, which settles this call, before it answers. A tracked
      // connection has not ended here (its end stops this call first), so fail() answers exactly then,
      // after this call has read res.statusCode.
      if (unanswered) answered = 500;
      if (connection !== undefined) connection.fail('stream-error', error);
      else if (unanswered) answerPlain(res, 500, 'Internal Server Error\n');
      else res.destroy(error);
    };
    const shortRead = (): Error | undefined =>
      expectedBytes === undefined || bytes >= expectedBytes
        ? undefined
        : Object.assign(new Error(`source ended after ${bytes} of ${expectedBytes} bytes`), { code: 'LIFELINE_SHORT_READ' });
    const count = (chunk: { length: number }) => {
      bytes += chunk.length;
      if (connection === undefined) return;
      const now = Date.now();
      if (bytes - reported >= PROGRESS_STEP || now - reportedAt >= PROGRESS_INTERVAL_MS) {
        reported = bytes;
        reportedAt = now;
        connection.progress(bytes);
      }
    };
    const startPiping = () => {
      // Both registered before pipeline's own listeners, so the failure is recorded, and the response cut,
      // before pipeline acts: on a source error it destroys the response, and on 'end' it ends it, which
      // a client takes for a complete body (HTTP/1's last chunk, HTTP/2's END_STREAM).
      source.once('error', failed);
      source.once('end', () => {
        const error = shortRead();
        if (error !== undefined) failed(error);
      });
      pipeline(source, res as NodeJS.WritableStream, settle);
      source.on('data', count);
    };
    // The response is handed to pipeline only once the source has its first chunk or its end ('readable'),
    // or has ended before this call. A source that fails before that gets a complete 500 instead (a cut if
    // the handler had sent the head), which pipeline would race: on a source error it destroys the
    // response in the same turn, cutting a 500 written just before. (A source that ends short with nothing
    // sent is answered from the 'end' listener above: pipeline only ends the response then, after the 500.)
    // Waiting costs a few listeners per call and nothing per chunk.
    const onReadable = () => {
      stopWaiting();
      startPiping();
      // Pulls the first chunk at once: its 'data' reaches pipeline's listener, which writes it, so the
      // head is sent in this turn and a failure from now on can only cut. Without this the first write
      // waits a tick, and an error in between would find nothing sent with pipeline already attached.
      source.read();
    };
    let responseGone = false;
    const onResponseClose = () => {
      // The client left, or someone else ended the response: nothing will read the source. Destroyed, it
      // settles below with a premature close, the verdict pipeline gives a response that goes mid-body
      // (pipeline itself refuses a closed response from Node 24 on).
      responseGone = true;
      source.destroy();
    };
    // finished() also reports a source that errored or was destroyed before this call. An error, or a
    // close before the end, is a failure; a source that had already ended is piped (an empty body).
    const stopWatching = finished(source, (error) => {
      stopWaiting();
      if (stopping) return;
      if (responseGone) settle(error);
      else if (error) {
        failed(error);
        stopSource();
      } else startPiping();
    });
    const stopWaiting = () => {
      stopWatching();
      source.removeListener('readable', onReadable);
      res.removeListener('close', onResponseClose);
    };
    source.once('readable', onReadable);
    res.once('close', onResponseClose);
  });
}

/**
 * For a response nobody tracks: an HTTP/1 response still queued behind another
 * on its socket gets no event of its own when the socket dies (Node 20 and 22),
 * so the socket's `close` stands in. Returns the function that stops listening.
 */
function onUntrackedResponseGone(res: Response, gone: () => void): () => void {
  const http1 = res as ServerResponse;
  const socket = http1.req?.socket;
  if (http1.socket !== null || typeof socket?.once !== 'function') return () => {};
  // Already gone (the call came after the socket died): its `close` will not come again.
  if (socket.destroyed) {
    process.nextTick(gone);
    return () => {};
  }
  socket.once('close', gone);
  return () => socket.removeListener('close', gone);
}
