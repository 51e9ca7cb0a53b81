import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

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
