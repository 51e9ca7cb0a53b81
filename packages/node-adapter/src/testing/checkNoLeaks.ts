import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { createRegistry, type ConnectionId, type ConnectionOutcome } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { checkOptionsArgument, invalidArgument } from '../invalidArgument.js';
// Through the package's root (a self-reference), so that this subpath's bundle instruments with the
// root's code: a copy would tag connections with symbols the root's connectionOf() does not know.
import { instrument } from '@lifeline/node-adapter';
import { MAX_TIMER_MS } from '../timerLimit.js';
import { rawRequest, runKeepAlive, runRawClient, type ClientBehaviour } from './clients.js';
import { newDescriptors, openFileDescriptors } from './descriptors.js';

/** Options of {@link checkNoLeaks}. */
export interface CheckNoLeaksOptions {
  /**
   * Your own bookkeeping's size (a map of sessions, a pool's checked-out count...): after each run it must
   * be back where it was before the run.
   */
  inFlight?: () => number;
  /** Paths to request. Default `['/']`. */
  paths?: readonly string[];
  /** fast-check runs. Default 30. */
  numRuns?: number;
  /** fast-check seed, to replay a failure. */
  seed?: number;
  /** How long everything may take to settle after the clients are gone, in ms. Default 3,000. */
  settleMs?: number;
  /** A client reading a response gives up after this many ms (a handler that never answers). Default 5,000. */
  clientTimeoutMs?: number;
  /**
   * Also require that every file the process opened during a run is closed once the run's connections
   * ended (a handler that leaves a file stream open after its client left is the original bug). Read
   * from /proc/self/fd, so checked on Linux only. Default `true`.
   */
  descriptors?: boolean;
}

/** What a passing {@link checkNoLeaks} saw. */
export interface CheckNoLeaksReport {
  readonly runs: number;
  readonly connections: number;
  readonly outcomes: Readonly<Record<ConnectionOutcome, number>>;
}

type Session =
  | { kind: 'single'; path: string; client: ClientBehaviour }
  | { kind: 'keep-alive'; paths: string[] }
  | { kind: 'pipelined'; paths: string[]; dies: boolean };

const checkNoLeaksOptionRules = {
  inFlight: option.function('a function returning your bookkeeping\'s size'),
  paths: option.array(option.custom('a path starting with "/", without spaces', (v) => typeof v === 'string' && /^\/\S*$/.test(v)), 1),
  numRuns: option.number({ integer: true, min: 1 }),
  seed: option.number({ integer: true }),
  settleMs: option.number({ min: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  clientTimeoutMs: option.number({ above: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
};

function sessionArbitrary(paths: readonly string[]): fc.Arbitrary<Session> {
  const path = fc.constantFrom(...paths);
  const client = fc.oneof(
    fc.constant<ClientBehaviour>({ kind: 'read-all' }),
    fc.constant<ClientBehaviour>({ kind: 'abort-before-headers' }),
    fc.integer({ min: 1, max: 256 * 1024 }).map<ClientBehaviour>((bytes) => ({ kind: 'abort-at', bytes })),
    fc.integer({ min: 1, max: 256 * 1024 }).map<ClientBehaviour>((bytes) => ({ kind: 'reset-at', bytes })),
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('single' as const), path, client }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('keep-alive' as const), paths: fc.array(path, { minLength: 1, maxLength: 4 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('pipelined' as const), paths: fc.array(path, { minLength: 2, maxLength: 4 }), dies: fc.boolean() }),
    },
  );
}

const settled = async (condition: () => boolean, ms: number) => {
  const start = Date.now();
  while (!condition() && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 5));
  return condition();
};

/**
 * Property-tests a request handler for leaks over real sockets: fast-check
 * drives clients that read in full, leave before headers, abort or reset at a
 * random byte, reuse keep-alive sockets and pipeline requests. After every
 * run it checks that each connection was released exactly once, that the
 * registry is back to zero, and that your own `inFlight()` count is too.
 * Rejects with fast-check's (shrunk) counterexample when it finds a leak, and
 * before any run for bad arguments (an `InvalidArgumentError` for `handler`,
 * an `InvalidOptionsError` for options).
 *
 * @example
 * ```ts
 * import { checkNoLeaks } from '@lifeline/node-adapter/testing';
 * const sessions = new Map();
 * await checkNoLeaks(myHandler(sessions), { inFlight: () => sessions.size, paths: ['/', '/download'] });
 * ```
 */
export async function checkNoLeaks(handler: http.RequestListener, options: CheckNoLeaksOptions = {}): Promise<CheckNoLeaksReport> {
  if (typeof handler !== 'function') {
    throw invalidArgument('checkNoLeaks', 'handler', 'a request handler function (req, res) => ...', handler, 'Pass the handler under test: await checkNoLeaks((req, res) => ..., { inFlight }).');
  }
  checkOptionsArgument('checkNoLeaks', options);
  checkOptions('checkNoLeaks', options, checkNoLeaksOptionRules);
  options ??= {};
  const paths = options.paths ?? ['/'];
  const settleMs = options.settleMs ?? 3_000;
  const clientTimeoutMs = options.clientTimeoutMs ?? 5_000;
  const totals: Record<ConnectionOutcome, number> = { finished: 0, closed: 0, errored: 0 };
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(sessionArbitrary(paths), { minLength: 1, maxLength: 6 }), async (sessions) => {
      runs++;
      // Leaks of an earlier (failing) run stay in the user's bookkeeping; each run is judged on its own.
      const baseline = options.inFlight?.() ?? 0;
      const registry = createRegistry({ journalSize: 0 });
      const releases = new Map<ConnectionId, number>();
      registry.onRelease((c) => {
        releases.set(c.id, (releases.get(c.id) ?? 0) + 1);
        totals[c.outcome]++;
      });
      const server = http.createServer();
      instrument(server, { registry });
      // Tag each request so that a client can wait for it to reach the handler before leaving.
      const arrivals = new Map<string, () => void>();
      server.on('request', (req, res) => {
        const tag = /[?&]lifeline-tag=([^&]+)/.exec(req.url ?? '')?.[1];
        if (tag !== undefined) arrivals.get(tag)?.();
        handler(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const descriptorsBefore = options.descriptors === false ? undefined : openFileDescriptors();
      const filesLeftOpen = () => newDescriptors(descriptorsBefore, openFileDescriptors());
      const tagged = (path: string, tag: string) => `${path}${path.includes('?') ? '&' : '?'}lifeline-tag=${tag}`;
      try {
        await Promise.all(
          sessions.map((session, i) => {
            const arrived = new Promise<void>((resolve) => arrivals.set(`s${i}`, resolve));
            if (session.kind === 'single') {
              return runRawClient(port, rawRequest(tagged(session.path, `s${i}`), true), session.client, arrived, clientTimeoutMs);
            }
            if (session.kind === 'keep-alive') return runKeepAlive(port, session.paths, clientTimeoutMs);
            const payload = session.paths.map((p, k) => rawRequest(tagged(p, k === 0 ? `s${i}` : `s${i}_${k}`), k === session.paths.length - 1)).join('');
            return runRawClient(port, payload, session.dies ? { kind: 'abort-before-headers' } : { kind: 'read-all' }, arrived, clientTimeoutMs);
          }),
        );
        const ok = await settled(() => registry.size === 0 && (options.inFlight?.() ?? 0) <= baseline, settleMs);
        if (!ok) {
          throw new Error(
            `leak: ${registry.size} connection(s) still in the registry` +
              (options.inFlight ? `, inFlight() = ${options.inFlight()} (${baseline} before this run)` : '') +
              ` after every client left: ${JSON.stringify(registry.list())}`,
          );
        }
        if (descriptorsBefore !== undefined && !(await settled(() => filesLeftOpen().length === 0, settleMs))) {
          const open = filesLeftOpen();
          throw new Error(`leak: ${open.length} file descriptor(s) opened during the run still open after every connection ended: ${[...new Set(open)].join(', ')}`);
        }
        for (const [id, count] of releases) if (count !== 1) throw new Error(`connection ${id} was released ${count} times`);
        if (releases.size !== registry.stats().opened) throw new Error(`${registry.stats().opened} opened, ${releases.size} released`);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }),
    { numRuns: options.numRuns ?? 30, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
  return { runs, connections: totals.finished + totals.closed + totals.errored, outcomes: totals };
}
