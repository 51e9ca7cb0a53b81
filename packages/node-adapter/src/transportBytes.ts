/** The transport counters a socket-like object may carry (net.Socket, tls.TLSSocket, an HTTP/2 session's socket). */
interface ByteCounting {
  readonly bytesRead?: unknown;
  readonly bytesWritten?: unknown;
  readonly writableLength?: unknown;
}

/**
 * Bytes a socket has moved: read from the OS plus written to it. Node's
 * `bytesWritten` also counts what still waits in the socket's own buffer, so
 * a handler that keeps writing to a reader that stopped would look busy
 * forever; `writableLength` (that buffer) is taken off, leaving only writes
 * that completed. `undefined` when the object does not count bytes.
 */
export function socketBytesMoved(socket: ByteCounting | null | undefined): number | undefined {
  if (socket == null) return undefined;
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  if (typeof read !== 'number' || typeof written !== 'number') return undefined;
  const buffered = typeof socket.writableLength === 'number' ? socket.writableLength : 0;
  return read + written - buffered;
}
