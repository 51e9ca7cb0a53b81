import type { Stats } from 'node:fs';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { extname } from 'node:path';
import { checkOptions, option } from '@lifeline/core/internal';
import { pipeResponse, type SendResult } from './pipeResponse.js';
import { checkOptionsArgument, invalidArgument, isResponse } from './invalidArgument.js';
import { answerPlain } from './plainAnswer.js';
import { isFresh, rangeStillValid, weakEtag } from './preconditions.js';
import { parseRange } from './ranges.js';
import { nodeFs, type Fs } from './lazyFs.js';
import { resolveInRoot, type DotfilesPolicy } from './rootPath.js';
import { connectionOf } from './track.js';

/*
 * The file is opened, stat-ed and read through node:fs's callback API on a plain descriptor, as a
 * hand-written `createReadStream(path)` does: a FileHandle from node:fs/promises makes the same
 * system calls but adds a promise, a result object and a reference count per read and a promise per
 * close. A plain descriptor is not closed by the garbage collector, so each is closed exactly once:
 * here until it is handed to its read stream, by the stream (autoClose) after.
 */
const openFile = (fs: Fs, path: string, flags: number) =>
  new Promise<number>((resolve, reject) => fs.open(path, flags, (error, fd) => (error === null ? resolve(fd) : reject(error))));
const statFile = (fs: Fs, fd: number) =>
  new Promise<Stats>((resolve, reject) => fs.fstat(fd, (error, stats) => (error === null ? resolve(stats) : reject(error))));
const closeFile = (fs: Fs, fd: number) => new Promise<void>((resolve) => fs.close(fd, () => resolve()));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.htm': 'text/html; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

/** Options of {@link sendFile}. */
export interface SendFileOptions {
  /** Default: from the file extension, else `application/octet-stream`. */
  contentType?: string;
  /** Extra headers for a successful response. */
  headers?: Record<string, string>;
  /**
   * Confine the file to this directory: `path` is then a URL path (`req.url` as it came, query and all)
   * resolved under `root`. Anything leading out of it (`..` segments raw or percent-encoded, encoded `/`
   * or `\\`, backslashes, NUL bytes, absolute paths, symbolic links pointing outside) is answered 403,
   * malformed percent-encoding 400, a missing file 404, and the file is never opened.
   */
  root?: string;
  /** With `root`: follow symbolic links that lead outside it. Default `false` (403). */
  allowSymlinksOutsideRoot?: boolean;
  /**
   * With `root`: path segments starting with a dot (`.env`, `.git/`). `'ignore'` answers 404 as if absent,
   * `'deny'` 403, `'allow'` serves them. Default `'ignore'`.
   */
  dotfiles?: DotfilesPolicy;
  /** Send a weak `ETag` (size and mtime) and answer a matching `If-None-Match` with 304. Default `true`. */
  etag?: boolean;
  /** Send `Last-Modified` and answer `If-Modified-Since` with 304. Default `true`. */
  lastModified?: boolean;
  /**
   * Honour a single `Range: bytes=a-b` with 206 (416 when unsatisfiable) and send `Accept-Ranges: bytes`.
   * Several ranges in one header get the whole file with 200. Default `true`.
   */
  ranges?: boolean;
}

type Response = ServerResponse | Http2ServerResponse;

const NO_OPTIONS: SendFileOptions = Object.freeze({});

const sendFileOptionRules = {
  contentType: option.string(),
  headers: option.stringRecord(),
  root: option.custom('a non-empty string (a folder)', (v) => typeof v === 'string' && v.length > 0),
  allowSymlinksOutsideRoot: option.boolean(),
  dotfiles: option.custom('"allow", "deny" or "ignore"', (v) => v === 'allow' || v === 'deny' || v === 'ignore'),
  etag: option.boolean(),
  lastModified: option.boolean(),
  ranges: option.boolean(),
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
 * connection (see `pipeResponse`: a read that fails before the first byte is
 * a 500, a later one cuts the response). The file is always closed.
 *
 * With `root`, `path` is a URL path confined to that directory: a path
 * leading out of it is answered 403 (400 for malformed encoding) and nothing
 * is opened; `SendResult.error` is then a `PathRefusedError` saying why.
 * GET and HEAD get a weak `ETag` and `Last-Modified` (304 when the client's
 * copy is current) and a single byte range (206, or 416 with
 * `Content-Range: bytes *\/size`); several ranges get the whole file.
 *
 * Rejects only for bad arguments, before touching the response: an
 * `InvalidArgumentError` for `res` or `path`, an `InvalidOptionsError` for bad options.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   // GET /../../etc/passwd → 403; GET /app.js with If-None-Match → 304; Range: bytes=0-99 → 206
 *   const { status, outcome } = await sendFile(res, req.url!, { root: './public' });
 * });
 * ```
 */
export function sendFile(res: Response, path: string, options: SendFileOptions = NO_OPTIONS): Promise<SendResult> {
  let o: SendFileOptions;
  try {
    if (!isResponse(res)) {
      throw invalidArgument('sendFile', 'res', 'the response of a request handler', res, 'Call sendFile(res, path) with the handler\'s own res.');
    }
    if (typeof path !== 'string' || path === '') {
      throw invalidArgument('sendFile', 'path', 'a file path string', path, 'Pass the path of the file to send, e.g. sendFile(res, \'./public/index.html\').');
    }
    checkOptionsArgument('sendFile', options);
    // Most calls pass no options: nothing to check then, and no rule list walked per request.
    o = options === NO_OPTIONS ? NO_OPTIONS : (checkOptions('sendFile', options, sendFileOptionRules) ?? NO_OPTIONS);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return serveFile(res, path, o);
}

async function serveFile(res: Response, path: string, options: SendFileOptions): Promise<SendResult> {
  const fs = await nodeFs();
  const { constants } = fs;
  let flags = constants.O_RDONLY;
  if (options.root !== undefined) {
    const resolved = await resolveInRoot(options.root, path, options.dotfiles ?? 'ignore', options.allowSymlinksOutsideRoot === true);
    if (!('path' in resolved)) {
      const text = resolved.status === 400 ? 'Bad Request\n' : resolved.status === 403 ? 'Forbidden\n' : 'Not Found\n';
      return answer(res, resolved.status, text, resolved.error);
    }
    path = resolved.path;
    // The real path was checked: a link swapped in at its last component since then is not followed.
    if (options.allowSymlinksOutsideRoot !== true) flags |= constants.O_NOFOLLOW ?? 0;
  }
  let fd: number;
  try {
    fd = await openFile(fs, path, flags);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // A name too long for the file system cannot exist either (as in `send`): not a server error.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return answer(res, 404, 'Not Found\n', error as Error);
    if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') return answer(res, 403, 'Forbidden\n', error as Error);
    return answer(res, 500, 'Internal Server Error\n', error as Error);
  }
  let streaming = false;
  try {
    const stat = await statFile(fs, fd);
    if (!stat.isFile()) {
      return answer(res, 404, 'Not Found\n', Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' }));
    }
    const size = stat.size;
    // The client may have left while the file was being opened (for a queued pipelined response on
    // Node 20/22 only the tracked connection knows: the response itself is never told).
    if (res.destroyed || (res as ServerResponse).writableEnded || connectionOf(res)?.outcome !== undefined) {
      return { status: res.statusCode, bytes: 0, outcome: connectionOf(res)?.outcome };
    }
    const req = (res as { req?: { method?: string; headers?: IncomingHttpHeaders } }).req;
    const method = req?.method;
    const requestHeaders = req?.headers ?? {};
    const etag = options.etag === false ? undefined : weakEtag(size, stat.mtimeMs);
    const mtimeMs = options.lastModified === false ? undefined : stat.mtimeMs;
    const conditional = (method === 'GET' || method === 'HEAD') && !res.headersSent;
    if (!res.headersSent) {
      if (etag !== undefined) res.setHeader('etag', etag);
      if (mtimeMs !== undefined) res.setHeader('last-modified', stat.mtime.toUTCString());
      if (options.ranges !== false) res.setHeader('accept-ranges', 'bytes');
    }
    if (conditional && isFresh(requestHeaders, etag, mtimeMs)) {
      res.statusCode = 304;
      res.end();
      return { status: 304, bytes: 0, outcome: connectionOf(res)?.outcome };
    }
    let start = 0;
    let end = size - 1;
    if (conditional && options.ranges !== false && rangeStillValid(requestHeaders, stat.mtimeMs)) {
      const range = parseRange(requestHeaders.range, size);
      if (range === 'unsatisfiable') {
        answerPlain(res, 416, 'Range Not Satisfiable\n', { 'content-range': `bytes */${size}` });
        return { status: 416, bytes: 0, outcome: connectionOf(res)?.outcome };
      }
      if (range !== undefined) {
        ({ start, end } = range);
        res.statusCode = 206;
        res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
      }
    }
    const length = end - start + 1;
    if (!res.headersSent) {
      res.setHeader('content-length', length);
      res.setHeader('content-type', options.contentType ?? CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
      if (options.headers !== undefined) for (const [name, value] of Object.entries(options.headers)) res.setHeader(name, value);
    }
    if (method === 'HEAD' || length === 0) {
      res.end();
      return { status: res.statusCode, bytes: 0, outcome: connectionOf(res)?.outcome };
    }
    streaming = true; // from here the read stream owns the descriptor and closes it (autoClose)
    return await pipeResponse(res, fs.createReadStream('', { fd, start, end }), { expectedBytes: length });
  } catch (error) {
    // An invalid header value, a failing stat: answered, never thrown.
    return answer(res, 500, 'Internal Server Error\n', error as Error);
  } finally {
    if (!streaming) await closeFile(fs, fd);
  }
}
