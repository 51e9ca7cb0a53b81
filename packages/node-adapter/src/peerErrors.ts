/**
 * Error codes that mean the peer or the link went away, not that the server
 * failed: a connection that ends with one of these is `closed`, not `errored`.
 */
const PEER_ERROR_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT', // TCP keep-alive gave up: the link is gone
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_GOAWAY_SESSION',
]);

/** Codes by which Node reports that one of its own timeouts ended the request. */
const TIMEOUT_CODES = new Set(['ERR_HTTP_REQUEST_TIMEOUT', 'ERR_HTTP_HEADERS_TIMEOUT', 'ERR_HTTP2_STREAM_TIMEOUT']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isPeerError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && PEER_ERROR_CODES.has(code);
}

export function isTimeoutError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && TIMEOUT_CODES.has(code);
}
