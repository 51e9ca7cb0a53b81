import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PathRefusedError, sendFile, type SendResult } from '../src/index.js';
import { descriptorsOpenOn } from '../src/testing/index.js';
import { request } from './helpers/client.js';
import { startHttp1, waitFor, type TestServer } from './helpers/server.js';

// Every path sendFile opens, observed at the call itself: a check of /proc/self/fd between requests
// could miss a descriptor opened and closed in between.
const opened = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const open = ((file: fs.PathLike, ...rest: unknown[]) => {
    opened.push(String(file));
    return (actual.open as (...args: unknown[]) => void)(file, ...rest);
  }) as typeof actual.open;
  return { ...actual, default: { ...actual, open }, open };
});

let base: string;
let root: string;
let realRoot: string;
let secretFile: string;
const SECRET = `secret-${process.pid}-${Date.now()}-do-not-serve`;
const INDEX = '<h1>index</h1>\n';
const NESTED = 'nested file\n';

beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-root-')));
  root = path.join(base, 'public');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), INDEX);
  fs.writeFileSync(path.join(root, 'sub', 'a.txt'), NESTED);
  fs.writeFileSync(path.join(root, '.env'), 'TOKEN=dotfile\n');
  // The only file with this content anywhere: if a response carries it, the root was left.
  secretFile = path.join(base, 'secret.txt');
  fs.writeFileSync(secretFile, SECRET);
  fs.symlinkSync(secretFile, path.join(root, 'link-out.txt'));
  fs.symlinkSync(base, path.join(root, 'dir-out'));
  fs.symlinkSync(path.join(root, 'sub', 'a.txt'), path.join(root, 'alias.txt'));
  realRoot = fs.realpathSync(root);
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

beforeEach(() => {
  opened.length = 0;
});

/** A server whose handler sends `current.path` under the root: the path never goes through an HTTP client's URL checks. */
async function rootServer(options: Parameters<typeof sendFile>[2] = {}) {
  const current = { path: '/', result: undefined as SendResult | undefined };
  const t = await startHttp1(async (_req, res) => {
    // A rejection (a bad argument) is recorded, not left unhandled: the test then fails on it, not on a timeout.
    current.result = await sendFile(res, current.path, { root, ...options }).catch((error: Error) => {
      res.destroy();
      return { status: -1, bytes: 0, outcome: undefined, error };
    });
  });
  const fetchPath = async (p: string) => {
    current.path = p;
    current.result = undefined;
    const response = await request(t.port);
    await waitFor(() => current.result !== undefined, 'sendFile to settle');
    return { response, result: current.result as unknown as SendResult };
  };
  return { t, fetchPath };
}

/** The plain-text answer of each refusal status. */
const PLAIN_BODY: Record<number, string> = { 400: 'Bad Request\n', 403: 'Forbidden\n', 404: 'Not Found\n' };

const isInsideRoot = (file: string) => file === realRoot || file.startsWith(realRoot + path.sep) || file === root || file.startsWith(root + path.sep);

describe('sendFile with root: paths that leave the root are refused before anything is opened', () => {
  let server: Awaited<ReturnType<typeof rootServer>>;
  let t: TestServer<unknown>;
  beforeAll(async () => {
    server = await rootServer();
    t = server.t as TestServer<unknown>;
  });
  afterAll(async () => {
    await (t as TestServer<never>).close();
  });

  it.each([
    ['/../secret.txt', 403, 'traversal'],
    ['/sub/../../secret.txt', 403, 'traversal'],
    ['/%2e%2e/secret.txt', 403, 'traversal'],
    ['/%2E%2e/%2e%2E/secret.txt', 403, 'traversal'],
    ['/.%2e/secret.txt', 403, 'traversal'],
    ['/..%2fsecret.txt', 403, 'encoded-separator'],
    ['/sub%2f..%2f..%2fsecret.txt', 403, 'encoded-separator'],
    ['/..%5csecret.txt', 403, 'encoded-separator'],
    ['/..\\secret.txt', 403, 'backslash'],
    ['/index.html\0.png', 403, 'nul-byte'],
    ['/index.html%00.png', 403, 'nul-byte'],
    ['//etc/passwd', 403, 'absolute'],
    ['///tmp/secret.txt', 403, 'absolute'],
    ['/C:/Windows/win.ini', 403, 'absolute'],
    ['/%E0%A4%A', 400, 'malformed-encoding'],
    ['/%c0%ae%c0%ae/secret.txt', 400, 'malformed-encoding'],
    ['/link-out.txt', 403, 'symlink-outside-root'],
    ['/dir-out/secret.txt', 403, 'symlink-outside-root'],
    ['/.env', 404, 'dotfile'],
    ['/missing.txt', 404, 'missing'],
  ])('%j → %i (%s), the client never gets the file and nothing is opened', async (hostile, status, reason) => {
    const { response, result } = await server.fetchPath(hostile);
    expect([response.status, response.body.toString()]).toEqual([status, PLAIN_BODY[status]]);
    expect(response.body.toString()).not.toContain(SECRET);
    expect(result.error).toBeInstanceOf(PathRefusedError);
    expect((result.error as PathRefusedError).reason).toBe(reason);
    expect((result.error as PathRefusedError).code).toBe('LIFELINE_PATH_REFUSED');
    expect(opened).toEqual([]);
  });

  it('serves files under the root, with the query string ignored and a symlink that stays inside followed', async () => {
    const served = [];
    for (const p of ['/index.html', '/sub/a.txt?v=3', '/sub/%61.txt', '/alias.txt', '/./sub/./a.txt']) {
      const { response } = await server.fetchPath(p);
      served.push([p, response.status, response.body.toString()]);
    }
    expect(served).toEqual([
      ['/index.html', 200, INDEX],
      ['/sub/a.txt?v=3', 200, NESTED],
      ['/sub/%61.txt', 200, NESTED],
      ['/alias.txt', 200, NESTED],
      ['/./sub/./a.txt', 200, NESTED],
    ]);
    expect(opened).toHaveLength(5); // the spy sees sendFile's opens
    expect(opened.every(isInsideRoot)).toBe(true);
  });

  it('answers a directory under the root with 404', async () => {
    const { response } = await server.fetchPath('/sub/');
    expect(response.status).toBe(404);
  });

  it('property: for any path built from hostile segments, no file outside the root is ever opened or sent', async () => {
    const secretName = path.basename(secretFile);
    const segment = fc.constantFrom(
      '..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '..%2f', '%2f', '%2F', '%5c', '\\', '..\\', '\0', '%00',
      '.', '', 'sub', 'a.txt', 'index.html', 'link-out.txt', 'dir-out', secretName, 'public', base.slice(1), 'C:', '%c0%ae', '%', '.env',
    );
    const hostilePath = fc.tuple(fc.constantFrom('/', '', '//', '\\', base + '/', '/%2f'), fc.array(segment, { minLength: 1, maxLength: 6 }), fc.constantFrom('/', '\\', '%2f')).map(
      ([prefix, segments, separator]) => prefix + segments.join(separator),
    ).filter((p) => p !== ''); // sendFile refuses an empty path as a bad argument, before any root check
    await fc.assert(
      fc.asyncProperty(hostilePath, async (hostile) => {
        opened.length = 0;
        const { response } = await server.fetchPath(hostile);
        const body = response.body.toString();
        expect(body).not.toContain(SECRET);
        expect(opened.filter((file) => !isInsideRoot(file))).toEqual([]);
        expect([200, 400, 403, 404]).toContain(response.status);
        if (response.status === 200) expect([INDEX, NESTED]).toContain(body);
      }),
      { numRuns: 300 },
    );
    expect(t.registry.size).toBe(0);
    expect(descriptorsOpenOn(secretFile)).toBe(0);
  });
});

describe('sendFile with root: options', () => {
  it('follows a symlink leading outside the root only with allowSymlinksOutsideRoot', async () => {
    const { t, fetchPath } = await rootServer({ allowSymlinksOutsideRoot: true });
    try {
      const { response } = await fetchPath('/link-out.txt');
      expect([response.status, response.body.toString()]).toEqual([200, SECRET]);
      // Traversal stays refused: the option is about links the owner of the root put there.
      expect((await fetchPath('/../secret.txt')).response.status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it.each([
    ['allow', 200],
    ['deny', 403],
    ['ignore', 404],
  ] as const)('dotfiles: %s → %i for /.env', async (dotfiles, status) => {
    const { t, fetchPath } = await rootServer({ dotfiles });
    try {
      expect((await fetchPath('/.env')).response.status).toBe(status);
    } finally {
      await t.close();
    }
  });

  it('rejects a root that is not a non-empty string (an empty one, an array) and an unknown dotfiles policy', async () => {
    const res = { setHeader() {}, write() {}, end() {}, on() {}, getHeaderNames: () => [] } as never;
    await expect(sendFile(res, '/a', { root: '' })).rejects.toMatchObject({ code: 'LIFELINE_INVALID_OPTIONS', options: ['root'] });
    await expect(sendFile(res, '/a', { root: ['public'] as never })).rejects.toMatchObject({ code: 'LIFELINE_INVALID_OPTIONS', options: ['root'] });
    await expect(sendFile(res, '/a', { root, dotfiles: 'hide' as never })).rejects.toMatchObject({ code: 'LIFELINE_INVALID_OPTIONS', options: ['dotfiles'] });
  });
});
