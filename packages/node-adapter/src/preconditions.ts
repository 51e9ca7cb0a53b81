import type { IncomingHttpHeaders } from 'node:http';

/** A weak validator from size and modification time: cheap (no hashing) and stable across restarts. */
export function weakEtag(size: number, mtimeMs: number): string {
  return `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** True when `If-None-Match` lists `etag` (weak comparison) or is `*`. */
function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const ours = opaque(etag);
  return header.split(',').some((tag) => opaque(tag.trim()) === ours);
}

/** Whole seconds: HTTP dates carry no more, so a file modified within the stated second is not newer. */
function notModifiedSince(header: string, mtimeMs: number): boolean {
  const since = Date.parse(header);
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/**
 * The client's copy is current (answer 304): `If-None-Match` decides when
 * present, else `If-Modified-Since` (RFC 9110 §13.2.2).
 */
export function isFresh(headers: IncomingHttpHeaders, etag: string | undefined, mtimeMs: number | undefined): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return etag !== undefined && noneMatch(ifNoneMatch, etag);
  const ifModifiedSince = headers['if-modified-since'];
  return ifModifiedSince !== undefined && mtimeMs !== undefined && notModifiedSince(ifModifiedSince, mtimeMs);
}

/**
 * `If-Range` allows the range only when the validator it carries is still
 * the file's: a weak ETag never qualifies (RFC 9110 §13.1.5), a date must
 * equal Last-Modified to the second.
 */
export function rangeStillValid(headers: IncomingHttpHeaders, mtimeMs: number): boolean {
  const ifRange = headers['if-range'];
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return false;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && Math.floor(mtimeMs / 1000) * 1000 === date;
}
