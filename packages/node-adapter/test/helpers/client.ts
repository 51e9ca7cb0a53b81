import http from 'node:http';

export interface LooseResponse {
  /** Undefined when no response head arrived. */
  status: number | undefined;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** True only when the whole message arrived (Node's `res.complete`). */
  complete: boolean;
}

/**
 * An HTTP/1 request that never rejects: a truncated or refused response is
 * described, not thrown, so tests can assert on what the client actually saw.
 * `onResponse` runs at the response head (e.g. to destroy the request mid-body).
 */
export function request(
  port: number,
  options: http.RequestOptions & { body?: string | Buffer; onResponse?: (res: http.IncomingMessage, req: http.ClientRequest) => void } = {},
): Promise<LooseResponse> {
  const { body, onResponse, ...rest } = options;
  return new Promise((resolve) => {
    let result: LooseResponse = { status: undefined, headers: {}, body: Buffer.alloc(0), complete: false };
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent: false, ...rest }, (res) => {
      const chunks: Buffer[] = [];
      result = { status: res.statusCode, headers: res.headers, body: Buffer.alloc(0), complete: false };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => {});
      res.on('close', () => {
        result.body = Buffer.concat(chunks);
        result.complete = res.complete;
        settle();
      });
      onResponse?.(res, req);
    });
    req.on('error', () => {
      // 'close' follows; with a response, its own 'close' settles.
    });
    req.on('close', () => {
      if (result.status === undefined) settle();
    });
    req.end(body);
  });
}
