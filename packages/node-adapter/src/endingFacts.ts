import { toErrorInfo, type CloseReason, type ConnectionEvent, type ErrorReason } from '@lifeline/core';

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

/** Node's HTTP parser error codes (`HPE_*`): what the peer sent could not be parsed, or stopped mid-message. */
function parserErrorCode(error: unknown): string | undefined {
  const code = codeOf(error);
  return code !== undefined && code.startsWith('HPE_') ? code : undefined;
}

/**
 * A request the client broke off or garbled. A FIN in the middle of a message
 * (`HPE_INVALID_EOF_STATE`: an abandoned upload) is the peer leaving; any other
 * parser error is a malformed request (Node answers 400 and cuts the socket).
 * Either way it is the peer's doing: `closed`, never `errored`.
 */
function clientParseFact(code: string): ConnectionEvent {
  return code === 'HPE_INVALID_EOF_STATE' ? { type: 'CLOSE', reason: 'aborted', code } : { type: 'CLOSE', reason: 'bad-request', code };
}

export function isPeerError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && PEER_ERROR_CODES.has(code);
}

export function isTimeoutError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/** The fact for a transport that completed its side: shared, frozen, allocated once. */
export const FINISH: ConnectionEvent = Object.freeze({ type: 'FINISH' });

/** A server timeout ended the connection; `error` is Node's own report of it, when it gave one. */
export function timeoutFact(error: Error | null | undefined): ConnectionEvent {
  return error ? { type: 'ERROR', reason: 'timeout', error: toErrorInfo(error) } : { type: 'ERROR', reason: 'timeout' };
}

/**
 * Maps what is known when a connection ends without having completed onto its
 * terminal fact: a timeout is the server's doing, a peer error code is the
 * peer leaving (`reset`), any other error is a server-side failure
 * (`nonPeerReason`), and no error at all is a close for `fallback`.
 */
export function endingFact(
  error: Error | null | undefined,
  timedOut: boolean,
  fallback: CloseReason,
  nonPeerReason: ErrorReason,
): ConnectionEvent {
  if (timedOut || isTimeoutError(error)) return timeoutFact(error);
  if (error) {
    const parserCode = parserErrorCode(error);
    if (parserCode !== undefined) return clientParseFact(parserCode);
    if (isPeerError(error)) return { type: 'CLOSE', reason: 'reset' };
    return { type: 'ERROR', reason: nonPeerReason, error: toErrorInfo(error) };
  }
  return { type: 'CLOSE', reason: fallback };
}
