import net from 'node:net';

// RFC 9113 §6: the frame types and flags this client sends.
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const END_HEADERS = 0x4;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/**
 * `POST /` with an `:authority` of `x`, HPACK-encoded by hand (RFC 7541): static-table entries 3
 * (:method POST), 4 (:path /) and 6 (:scheme http), then a literal without indexing on name 1.
 */
const POST_HEADER_BLOCK = Buffer.from([0x83, 0x84, 0x86, 0x01, 0x01, 0x78]);

export interface RawH2Client {
  /** Opens stream `id` (odd, rising) with `POST /` and leaves the upload open: no END_STREAM. */
  post(id: number): void;
  /** Sends RST_STREAM with `code` on stream `id`. */
  reset(id: number, code: number): void;
  /** Ends the TCP connection with a FIN and no GOAWAY before it. */
  fin(): void;
  /** Resets the TCP connection (RST), with neither GOAWAY nor FIN. */
  resetConnection(): void;
  destroy(): void;
}

/**
 * An HTTP/2 cleartext client written frame by frame on a plain TCP socket, for what node:http2's own
 * client never sends: a FIN with no GOAWAY, a TCP reset, a RST_STREAM on a stream whose response has
 * already ended while its upload is still open (Node's client ends its side of a stream before it
 * resets it). It never acknowledges the server's SETTINGS, which nghttp2 tolerates for a test's span.
 */
export async function rawH2(port: number): Promise<RawH2Client> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {}); // read what the server sends, so its writes never stall
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(SETTINGS, 0, 0, Buffer.alloc(0))]));
  return {
    post: (id) => socket.write(frame(HEADERS, END_HEADERS, id, POST_HEADER_BLOCK)),
    reset: (id, code) => {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(code);
      socket.write(frame(RST_STREAM, 0, id, payload));
    },
    fin: () => socket.end(),
    resetConnection: () => socket.resetAndDestroy(),
    destroy: () => socket.destroy(),
  };
}
