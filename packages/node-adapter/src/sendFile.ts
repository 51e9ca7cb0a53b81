import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { extname } from 'node:path';
import { checkOptions, option } from '@lifeline/core/internal';
import { pipeResponse, type SendResult } from './pipeResponse.js';
import { checkOptionsArgument, invalidArgument, isResponse } from './invalidArgument.js';
import { answerPlain } from './plainAnswer.js';
import { connectionOf } from './track.js';

/**
 * node:fs/promises, loaded at the first sendFile call rather than at import: it pulls in readline and
 * file watchers, a few milliseconds of startup that a server which never sends a file should not pay.
 */
let fsPromises: typeof import('node:fs/promises') | undefined;
const open = (path: string, flags: string) => (fsPromises ??= process.getBuiltinModule('node:fs/promises')).open(path, flags);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.pdf': 'application/pdf',
};

/** Options of {@link sendFile}. */
export interface SendFileOptions {
  /** Default: from the file extension, else `application/octet-stream`. */
  contentType?: string;
  /** Extra headers for a successful response. */
  headers?: Record<string, string>;
}

type Response = ServerResponse | Http2ServerResponse;

const sendFileOptionRules = {
  contentType: option.string(),
  headers: option.stringRecord(),
};

/** Answers with an error status when nothing was sent yet; otherwise the response can only be cut. */
function answer(res: Response, status: number, text: string, error: Error): SendResult {
  const connection = connectionOf(res);
  if (!res.headersSent && !res.destroyed) {
    answerPlain(res, status, text);
    return { status, bytes: 0, outcome: connection?.outcome, error };
  }
  if (connection !== undefined) connection.fail('stream-error', error);
  else res.destroy();
  return { status: res.statusCode, bytes: 0, outcome: connection?.outcome, error };
}

/**
 * Streams a file into the response: the operation that leaked in the original
 * bug, done safely. Content-Length and Content-Type are set; HEAD gets the
 * headers only; a missing file is a 404 and an unreadable one a 403/500 when
 * nothing was sent yet; every error during streaming is mapped onto the
 * connection (see `pipeResponse`). The file is always closed. Rejects only for
 * bad arguments, before touching the response: an `InvalidArgumentError` for
 * `res` or `path`, an `InvalidOptionsError` for bad options.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const { status, outcome } = await sendFile(res, '/srv/reports/today.json');
 * });
 * ```
 */
export function sendFile(res: Response, path: string, options: SendFileOptions = {}): Promise<SendResult> {
  let o: SendFileOptions;
  try {
    if (!isResponse(res)) {
      throw invalidArgument('sendFile', 'res', 'the response of a request handler', res, 'Call sendFile(res, path) with the handler\'s own res.');
    }
    if (typeof path !== 'string' || path === '') {
      throw invalidArgument('sendFile', 'path', 'a file path string', path, 'Pass the path of the file to send, e.g. sendFile(res, \'./public/index.html\').');
    }
    checkOptionsArgument('sendFile', options);
    o = checkOptions('sendFile', options, sendFileOptionRules) ?? {};
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return serveFile(res, path, o);
}

async function serveFile(res: Response, path: string, options: SendFileOptions): Promise<SendResult> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return answer(res, 404, 'Not Found\n', error as Error);
    if (code === 'EACCES' || code === 'EPERM') return answer(res, 403, 'Forbidden\n', error as Error);
    return answer(res, 500, 'Internal Server Error\n', error as Error);
  }
  let streaming = false;
  try {
    const stat = await file.stat();
    if (!stat.isFile()) {
      return answer(res, 404, 'Not Found\n', Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' }));
    }
    const size = stat.size;
    // The client may have left while the file was being opened (for a queued pipelined response on
    // Node 20/22 only the tracked connection knows: the response itself is never told).
    if (res.destroyed || (res as ServerResponse).writableEnded || connectionOf(res)?.outcome !== undefined) {
      return { status: res.statusCode, bytes: 0, outcome: connectionOf(res)?.outcome };
    }
    if (!res.headersSent) {
      res.setHeader('content-length', size);
      res.setHeader('content-type', options.contentType ?? CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
      for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
    }
    const method = (res as { req?: { method?: string } }).req?.method;
    if (method === 'HEAD' || size === 0) {
      res.end();
      return { status: res.statusCode, bytes: 0, outcome: connectionOf(res)?.outcome };
    }
    streaming = true; // from here the read stream owns the file and closes it
    return await pipeResponse(res, file.createReadStream({ start: 0, end: size - 1 }), { expectedBytes: size });
  } catch (error) {
    // An invalid header value, a failing stat: answered, never thrown.
    return answer(res, 500, 'Internal Server Error\n', error as Error);
  } finally {
    if (!streaming) await file.close().catch(() => {});
  }
}
