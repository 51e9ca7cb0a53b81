import http2 from 'node:http2';

/** A cleartext HTTP/2 client session on 127.0.0.1; errors are swallowed (tests provoke them). */
export function h2connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export interface H2Response {
  status: number | undefined;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** True when the stream ended with END_STREAM (the body is complete). */
  ended: boolean;
  rstCode: number | undefined;
}

/** Sends one request on `session` and collects the response until the stream closes. Never rejects. */
export function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}, body?: string): Promise<H2Response> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': '/', ...headers }, { endStream: body === undefined });
    if (body !== undefined) stream.end(body);
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let ended = false;
    stream.on('response', (h) => {
      status = h[':status'];
      responseHeaders = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => (ended = true));
    stream.on('error', () => {});
    stream.on('close', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), ended, rstCode: stream.rstCode }));
  });
}

/** Closes a client session and waits for its 'close'. */
export function h2close(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.destroyed) return resolve();
    session.once('close', () => resolve());
    session.destroy();
  });
}
