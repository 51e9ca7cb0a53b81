import { isAbsolute, resolve, sep } from 'node:path';
import { PathRefusedError, type PathRefusedReason } from './errors.js';
import { nodeFs, type Fs } from './lazyFs.js';

/** Where a URL path leads under a root: a file path to open, or why it must not be opened. */
export type RootPathResult = { readonly path: string } | { readonly status: 400 | 403 | 404; readonly error: PathRefusedError };

/** What to do with a path segment that starts with a dot (`.env`, `.git/config`). */
export type DotfilesPolicy = 'allow' | 'deny' | 'ignore';

function refused(status: 400 | 403 | 404, reason: PathRefusedReason, urlPath: string, detail: string): RootPathResult {
  return { status, error: new PathRefusedError(reason, urlPath, detail) };
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function hasDotDotSegment(path: string): boolean {
  return path.split('/').some((segment) => segment === '..');
}

/**
 * Checks a URL path (a request's `req.url`) for every way out of `root` that
 * needs no file system: the checks run on the raw text and again on the
 * decoded text, so `%2e%2e`, `%252e` left once-encoded, `%2f` and `%5c`
 * cannot smuggle a separator or a parent segment past either pass.
 */
function lexicalCheck(root: string, urlPath: string, dotfiles: DotfilesPolicy): RootPathResult {
  // The query and fragment are not part of the file's name.
  const end = urlPath.search(/[?#]/);
  const raw = end === -1 ? urlPath : urlPath.slice(0, end);
  if (raw.includes('\0')) return refused(403, 'nul-byte', urlPath, 'a NUL byte');
  if (raw.includes('\\')) return refused(403, 'backslash', urlPath, 'a backslash');
  if (hasDotDotSegment(raw)) return refused(403, 'traversal', urlPath, 'a ".." segment');
  // An encoded separator would make one URL segment two path segments after decoding.
  if (/%(2f|5c)/i.test(raw)) return refused(403, 'encoded-separator', urlPath, 'an encoded "/" or "\\"');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return refused(400, 'malformed-encoding', urlPath, 'malformed percent-encoding');
  }
  if (decoded.includes('\0')) return refused(403, 'nul-byte', urlPath, 'an encoded NUL byte');
  if (hasDotDotSegment(decoded)) return refused(403, 'traversal', urlPath, 'an encoded ".." segment');
  // One leading "/" is the URL's own; what follows must still be relative to the root.
  const relative = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  if (relative.startsWith('/') || isAbsolute(relative) || /^[a-zA-Z]:/.test(relative)) {
    return refused(403, 'absolute', urlPath, 'an absolute path');
  }
  if (dotfiles !== 'allow' && relative.split('/').some((segment) => segment.startsWith('.') && segment.length > 1)) {
    return dotfiles === 'deny' ? refused(403, 'dotfile', urlPath, 'a dotfile segment') : refused(404, 'dotfile', urlPath, 'a dotfile segment');
  }
  const full = resolve(root, relative);
  // Defence in depth: whatever the checks above missed, the joined path must still be under the root.
  if (!isInside(root, full)) {
    return refused(403, 'traversal', urlPath, 'a path that resolves outside the root');
  }
  return { path: full };
}

/** The real path, symbolic links resolved, by the system's realpath(3), as node:fs/promises' `realpath` does. */
const realpath = (fs: Fs, path: string) =>
  new Promise<string>((found, failed) => fs.realpath.native(path, (error, real) => (error === null ? found(real) : failed(error))));

/**
 * Resolves `urlPath` under `root` without opening anything: 400 for
 * malformed encoding, 403 for a way out of the root (`..` segments raw or
 * encoded, encoded separators, backslashes, NUL bytes, absolute paths, a
 * symbolic link leading outside unless `allowSymlinksOutsideRoot`), 404 for
 * a missing file or an ignored dotfile. The path it returns is the real one
 * (symbolic links followed), so what is opened is what was checked.
 */
export async function resolveInRoot(
  root: string,
  urlPath: string,
  dotfiles: DotfilesPolicy,
  allowSymlinksOutsideRoot: boolean,
): Promise<RootPathResult> {
  const absoluteRoot = resolve(root);
  const lexical = lexicalCheck(absoluteRoot, urlPath, dotfiles);
  if (!('path' in lexical)) return lexical;
  let real: string;
  let realRoot: string;
  try {
    const fs = await nodeFs();
    realRoot = await realpath(fs, absoluteRoot);
    real = await realpath(fs, lexical.path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return refused(404, 'missing', urlPath, 'no such file under the root');
    return refused(403, 'unreadable', urlPath, `the path cannot be resolved (${code ?? String(error)})`);
  }
  if (!allowSymlinksOutsideRoot && !isInside(realRoot, real)) {
    return refused(403, 'symlink-outside-root', urlPath, 'a symbolic link that leads outside the root');
  }
  return { path: allowSymlinksOutsideRoot ? lexical.path : real };
}
