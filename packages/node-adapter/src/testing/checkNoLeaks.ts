import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Arbitrary } from 'fast-check';
import { createRegistry, type ConnectionId, type ConnectionOutcome } from '@lifeline/core';
import { checkOptions, clientRuns, option, plural, RunLeak, runLeakCheck, settled } from '@lifeline/core/internal';
import { EndingNotExercisedError } from '../errors.js';
import { checkOptionsArgument, invalidArgument } from '../invalidArgument.js';
// Through the package's root (a self-reference), so that this subpath's bundle instruments with the
// root's code: a copy would tag connections with symbols the root's connectionOf() does not know.
import { instrument } from '@lifeline/node-adapter';
import { MAX_TIMER_MS } from '../timerLimit.js';
import { rawRequest, runKeepAlive, runRawClient, type ClientBehaviour } from './clients.js';
import { newDescriptors, openFileDescriptors } from './descriptors.js';
import { loadFastCheck } from './loadFastCheck.js';

/** Options of {@link checkNoLeaks}. */
export interface CheckNoLeaksOptions {
  /**
   * Your own bookkeeping's size (a map of sessions, a pool's checked-out count...): after each run it must
   * be back where it was before the run.
   */
  inFlight?: () => number;
  /** Paths to request. Default `['/']`. */
  paths?: readonly string[];
  /** fast-check runs at most (fewer if `timeBudgetMs` runs out first). Default 30. */
  numRuns?: number;
  /**
   * Stop after this many ms, shrinking included: the runs done so far count, and a leak found is reported
   * with the smallest counterexample reached. A run under way when it runs out still finishes (up to
   * `settleMs` more when it leaks). Default 3,000, so that the defaults fit vitest's and jest's default 5 s
   * test timeout. Give it more (and the test a longer timeout) for more runs.
   */
  timeBudgetMs?: number;
  /** fast-check seed, to replay a failure (a `LeakError` carries it). */
  seed?: number;
  /** fast-check path, with `seed`, to replay exactly the reported counterexample (a `LeakError` carries it). */
  replayPath?: string;
  /** How long everything may take to settle after the clients are gone, in ms. Default 1,000. */
  settleMs?: number;
  /** A client reading a response gives up after this many ms (a handler that never answers). Default 5,000. */
  clientTimeoutMs?: number;
  /**
   * Also require that every file the process opened during a run is closed once the run's connections
   * ended (a handler that leaves a file stream open after its client left is the original bug). Read
   * from /proc/self/fd, so checked on Linux only. Default `true`.
   */
  descriptors?: boolean;
  /**
   * Outcomes that at least one connection must have ended with, else the check fails with an
   * `EndingNotExercisedError`. Default `['finished', 'closed']`: a handler whose response is always
   * complete before a client can leave (say 256 KB written synchronously) never meets a disconnect, and
   * passing would prove nothing about that path. Pass `['finished']` (or `[]`) to accept it.
   */
  expectOutcomes?: readonly ConnectionOutcome[];
}

/** What a passing {@link checkNoLeaks} saw. */
export interface CheckNoLeaksReport {
  readonly runs: number;
  /** True when `timeBudgetMs` ended the check before `numRuns` runs. */
  readonly interrupted: boolean;
  readonly connections: number;
  /** How the server saw the connections end: the endings actually exercised. */
  readonly outcomes: Readonly<Record<ConnectionOutcome, number>>;
  /** What the generated clients did, by behaviour (a session of several requests counts once). */
  readonly clients: Readonly<Record<ClientKind, number>>;
}

/** The client behaviours checkNoLeaks generates. */
export type ClientKind = 'read-all' | 'abort-before-headers' | 'abort-at' | 'reset-at' | 'keep-alive' | 'pipelined' | 'pipelined-socket-dies';

type Session =
  | { kind: 'single'; path: string; client: ClientBehaviour }
  | { kind: 'keep-alive'; paths: string[] }
  | { kind: 'pipelined'; paths: string[]; dies: boolean };

const checkNoLeaksOptionRules = {
  inFlight: option.function('a function returning your bookkeeping\'s size'),
  paths: option.array(option.custom('a path starting with "/", without spaces', (v) => typeof v === 'string' && /^\/\S*$/.test(v)), 1),
  numRuns: option.number({ integer: true, min: 1 }),
  timeBudgetMs: option.number({ above: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  seed: option.number({ integer: true }),
  replayPath: option.custom('a fast-check path such as "3:1:0"', (v) => typeof v === 'string' && /^\d+(:\d+)*$/.test(v)),
  descriptors: option.boolean(),
  expectOutcomes: option.array(option.custom('"finished", "closed" or "errored"', (v) => v === 'finished' || v === 'closed' || v === 'errored')),
  settleMs: option.number({ min: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  clientTimeoutMs: option.number({ above: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
};

type FastCheck = Awaited<ReturnType<typeof loadFastCheck>>;

function sessionArbitrary(fc: FastCheck, paths: readonly string[]): Arbitrary<Session> {
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

/** One session in words, for a failure message a person reads. */
function describeSession(session: Session): string {
  if (session.kind === 'keep-alive') return `a keep-alive client sent ${session.paths.map((p) => `GET ${p}`).join(', then ')} on one socket, reading each response in full`;
  if (session.kind === 'pipelined') {
    const requests = session.paths.map((p) => `GET ${p}`).join(', ');
    return session.dies
      ? `a pipelining client sent ${requests} at once on one socket, then closed the socket as soon as the first request reached the handler`
      : `a pipelining client sent ${requests} at once on one socket and read every response`;
  }
  const c = session.client;
  const what =
    c.kind === 'read-all'
      ? 'read the whole response'
      : c.kind === 'abort-before-headers'
        ? 'closed its socket once the request reached the handler, before any response byte'
        : c.kind === 'abort-at'
          ? `closed its socket after receiving ${c.bytes} byte(s) of the response (headers included)`
          : `reset its socket (TCP RST) after receiving ${c.bytes} byte(s) of the response (headers included)`;
  return `a client sent GET ${session.path} and ${what}`;
}

function clientKind(session: Session): ClientKind {
  if (session.kind === 'single') return session.client.kind;
  if (session.kind === 'keep-alive') return 'keep-alive';
  return session.dies ? 'pipelined-socket-dies' : 'pipelined';
}

/**
 * Property-tests a request handler for leaks over real sockets: fast-check
 * drives clients that read in full, leave before headers, abort or reset at a
 * random byte, reuse keep-alive sockets and pipeline requests. After every
 * run it checks that each connection was released exactly once, that the
 * registry is back to zero, that your own `inFlight()` count is too, and that
 * no file opened during the run is still open.
 *
 * With the defaults it takes at most about 4 s (`timeBudgetMs` 3 s, plus
 * the run under way), inside a test runner's default 5 s timeout; give more time with `timeBudgetMs` and the
 * test's own timeout. It needs `fast-check` installed (an optional peer
 * dependency): without it, it rejects with a `MissingPeerDependencyError`.
 *
 * Rejects with a `LeakError` whose message says which clients (behaviour,
 * path) left what behind (entries in `inFlight()`, registry connections,
 * open files), shrunk to a small case; with an `EndingNotExercisedError` when
 * no connection ended as one of `expectOutcomes` (by default, no client ever
 * left mid-response); and before any run for bad arguments (an
 * `InvalidArgumentError` for `handler`, an `InvalidOptionsError` for options).
 *
 * @example
 * ```ts
 * import { checkNoLeaks } from '@lifeline/node-adapter/testing';
 * const sessions = new Map();
 * const report = await checkNoLeaks(myHandler(sessions), { inFlight: () => sessions.size, paths: ['/', '/download'] });
 * // report.outcomes: { finished: 41, closed: 23, errored: 0 }; report.clients: { 'abort-at': 12, ... }
 * ```
 */
export async function checkNoLeaks(handler: http.RequestListener, options: CheckNoLeaksOptions = {}): Promise<CheckNoLeaksReport> {
  if (typeof handler !== 'function') {
    throw invalidArgument('checkNoLeaks', 'handler', 'a request handler function (req, res) => ...', handler, 'Pass the handler under test: await checkNoLeaks((req, res) => ..., { inFlight }).');
  }
  checkOptionsArgument('checkNoLeaks', options);
  checkOptions('checkNoLeaks', options, checkNoLeaksOptionRules);
  options ??= {};
  const fc = await loadFastCheck();
  const paths = options.paths ?? ['/'];
  const settleMs = options.settleMs ?? 1_000;
  const clientTimeoutMs = options.clientTimeoutMs ?? 5_000;
  const numRuns = options.numRuns ?? 30;
  const timeBudgetMs = options.timeBudgetMs ?? 3_000;
  const totals: Record<ConnectionOutcome, number> = { finished: 0, closed: 0, errored: 0 };
  const clients: Record<ClientKind, number> = {
    'read-all': 0,
    'abort-before-headers': 0,
    'abort-at': 0,
    'reset-at': 0,
    'keep-alive': 0,
    pipelined: 0,
    'pipelined-socket-dies': 0,
  };
  const { runs, interrupted } = await runLeakCheck({
    fc,
    name: 'checkNoLeaks',
    clients: clientRuns(fc, sessionArbitrary(fc, paths), 6),
    describe: describeSession,
    numRuns,
    timeBudgetMs,
    seed: options.seed,
    replayPath: options.replayPath,
    run: async (sessions) => {
      // Leaks of an earlier (failing) run stay in the user's bookkeeping; each run is judged on its own.
      const baseline = options.inFlight?.() ?? 0;
      const registry = createRegistry({ journalSize: 0 });
      const releases = new Map<ConnectionId, number>();
      const outcomes: Record<ConnectionOutcome, number> = { finished: 0, closed: 0, errored: 0 };
      registry.onRelease((c) => {
        releases.set(c.id, (releases.get(c.id) ?? 0) + 1);
        outcomes[c.outcome]++;
      });
      const server = http.createServer();
      instrument(server, { registry, meta: (req) => req.url?.replace(/[?&]lifeline-tag=[^&]*/, '') });
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
          const parts: string[] = [];
          if (options.inFlight !== undefined && options.inFlight() > baseline) {
            const now = options.inFlight();
            parts.push(`${plural(now - baseline, 'entry', 'entries')} remained in your inFlight() count (${baseline} before the run, ${now} after)`);
          }
          if (registry.size > 0) {
            const open = registry.list().map((c) => `${String(c.meta)} (${c.state})`);
            parts.push(`${plural(registry.size, 'connection was', 'connections were')} never released by Lifeline: ${open.join(', ')}`);
          }
          throw new RunLeak(`${parts.join('; ')}, ${settleMs} ms after every client had left`);
        }
        if (descriptorsBefore !== undefined && !(await settled(() => filesLeftOpen().length === 0, settleMs))) {
          const open = [...new Set(filesLeftOpen())];
          throw new RunLeak(`${plural(open.length, 'file', 'files')} opened during the run ${open.length === 1 ? 'was' : 'were'} still open ${settleMs} ms after every connection had ended: ${open.join(', ')}`);
        }
        for (const [id, count] of releases) if (count !== 1) throw new RunLeak(`connection ${id} was released ${count} times`);
        if (releases.size !== registry.stats().opened) throw new RunLeak(`${registry.stats().opened} connections opened but ${releases.size} released`);
        for (const session of sessions) clients[clientKind(session)]++;
        for (const outcome of ['finished', 'closed', 'errored'] as const) totals[outcome] += outcomes[outcome];
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  });
  const report: CheckNoLeaksReport = {
    runs,
    interrupted,
    connections: totals.finished + totals.closed + totals.errored,
    outcomes: totals,
    clients,
  };
  const missing = (options.expectOutcomes ?? ['finished', 'closed']).filter((outcome) => totals[outcome] === 0);
  if (missing.length > 0) throw new EndingNotExercisedError(notExercisedMessage(missing, report), missing);
  return report;
}

function notExercisedMessage(missing: readonly ConnectionOutcome[], report: CheckNoLeaksReport): string {
  const seen = `${report.connections} connections in ${report.runs} runs ended as ${JSON.stringify(report.outcomes)}`;
  const leaving = report.clients['abort-before-headers'] + report.clients['abort-at'] + report.clients['reset-at'] + report.clients['pipelined-socket-dies'];
  const lines = [`checkNoLeaks found no leak, but no connection ended as ${missing.map((m) => `"${m}"`).join(' or ')}, so that path of your handler was never tested (${seen}).`];
  if (missing.includes('closed')) {
    lines.push(
      `${plural(leaving, 'client', 'clients')} left early, but each found the response already complete: the handler answers before a client can leave ` +
        '(for example a body written synchronously in one res.end()). Make the response take time (stream it, await before answering) ' +
        'so that a client can leave mid-body, or pass expectOutcomes: [\'finished\'] to accept a handler without a disconnect path.',
    );
  }
  if (missing.includes('finished')) lines.push('No response was ever completed: check that the handler answers the paths given in `paths`.');
  if (missing.includes('errored')) lines.push('No connection errored: drop "errored" from expectOutcomes unless your handler fails on purpose for some path.');
  if (report.interrupted) lines.push(`timeBudgetMs ran out after ${report.runs} runs: more time (timeBudgetMs, and the test's timeout) gives more runs.`);
  return lines.join(' ');
}
