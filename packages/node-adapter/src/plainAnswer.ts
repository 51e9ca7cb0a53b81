import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { ErrorReason } from '@lifeline/core';

/**
 * Answers with a short plain-text status (a 404 for a missing file, a 500 or
 * 503 when a connection is failed before anything was sent). Headers the
 * handler had already set are dropped first: a content-length or
 * content-encoding meant for another body would make this answer malformed.
 */
export function answerPlain(
  res: ServerResponse | Http2ServerResponse,
  status: number,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * True while nothing of the response has gone out, so it can still be answered as a whole: its head
 * not sent, not ended, not destroyed. Otherwise a failure can only cut it.
 */
export function nothingSent(res: ServerResponse | Http2ServerResponse): boolean {
  return !res.headersSent && !res.writableEnded && !res.destroyed;
}

/** The status a connection failed before anything was sent is answered with: 503 when it timed out or the server is shutting down, else 500. */
export function failureStatus(reason: ErrorReason): 503 | 500 {
  return reason === 'timeout' || reason === 'shutdown' ? 503 : 500;
}

/** Answers a response that has sent nothing for a connection failed with `reason` (see {@link failureStatus}). */
export function answerFailure(res: ServerResponse | Http2ServerResponse, reason: ErrorReason, headers?: OutgoingHttpHeaders): void {
  const status = failureStatus(reason);
  answerPlain(res, status, status === 503 ? 'Service Unavailable\n' : 'Internal Server Error\n', headers);
}
