import fc from 'fast-check';
// Through the internal entry (a self-reference), so that the loop and its RunLeak class exist once in the bundles.
import { checkOptions, clientRuns, option, plural, RunLeak, runLeakCheck, settled } from '@lifeline/core/internal';
import { hasMethods, invalidArgument } from './arguments.js';

/**
 * How one generated client ends its exchange, in a transport's own terms
 * (your `drive` decides what a step is: a message, a chunk, a tick).
 */
export type ClientEnding =
  /** The client stays until the exchange is over. */
  | { readonly kind: 'finish' }
  /** The client goes away (closes its socket, drops its end) after `after` steps. */
  | { readonly kind: 'leave'; readonly after: number }
  /** The exchange fails after `after` steps (the handler throws, the link errors). */
  | { readonly kind: 'error'; readonly after: number };

/** What {@link checkTransportForLeaks} drives: your transport, through three functions (and two optional hooks). */
export interface LeakCheckSubject<C = unknown> {
  /** Opens one client against the system under test. `index` counts the clients of a run from 0. */
  open(index: number): C | Promise<C>;
  /** Makes `client` end as `ending` says; resolves once the client's side is done. */
  drive(client: C, ending: ClientEnding): void | Promise<void>;
  /** The entries the system under test holds in flight now: a registry's `size`, your own map's. */
  inFlight(): number;
  /** Called before each run, before any client opens (start a server). */
  beforeRun?(): void | Promise<void>;
  /** Called after each run, once judged, failed or not (stop the server). */
  afterRun?(): void | Promise<void>;
}

/** Options of {@link checkTransportForLeaks}. */
export interface CheckTransportForLeaksOptions {
  /** fast-check runs at most (fewer if `timeBudgetMs` runs out first). Default 50. */
  numRuns?: number;
  /**
   * Stop after this many ms, shrinking included: a leak found is reported with the smallest counterexample
   * reached. A run under way when it runs out still finishes. Default 3,000 (inside a test runner's default
   * 5 s timeout, with `settleMs` to spare).
   */
  timeBudgetMs?: number;
  /** fast-check seed, to replay a failure (a `LeakError` carries it). */
  seed?: number;
  /** fast-check path, with `seed`, to replay exactly the reported counterexample (a `LeakError` carries it). */
  replayPath?: string;
  /** Clients at once in a run, at most. Default 4. */
  maxClients?: number;
  /** The largest `after` of a `leave` or `error` ending. Default 5. */
  maxSteps?: number;
  /** How long the system may take to come back to its in-flight count once every client is done, in ms. Default 1,000. */
  settleMs?: number;
  /** Your transport's words for an ending, in the failure message. Default: generic ones ("a client left after 2 step(s)"). */
  describe?: (ending: ClientEnding) => string;
}

/** What a passing {@link checkTransportForLeaks} saw. */
export interface CheckTransportForLeaksReport {
  readonly runs: number;
  /** True when `timeBudgetMs` ended the check before `numRuns` runs. */
  readonly interrupted: boolean;
  /** How many clients ended each way, over all runs. */
  readonly endings: Readonly<Record<ClientEnding['kind'], number>>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

const rules = {
  numRuns: option.number({ integer: true, min: 1 }),
  timeBudgetMs: option.number({ above: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  seed: option.number({ integer: true }),
  replayPath: option.custom('a fast-check path such as "3:1:0"', (v) => typeof v === 'string' && /^\d+(:\d+)*$/.test(v)),
  maxClients: option.number({ integer: true, min: 1 }),
  maxSteps: option.number({ integer: true, min: 0 }),
  settleMs: option.number({ min: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  describe: option.function('a function (ending) => string'),
};

/**
 * The endings {@link checkTransportForLeaks} generates: `finish`, or `leave` /
 * `error` after 0 to `maxSteps` steps. They shrink towards `finish` and fewer steps.
 *
 * @example
 * ```ts
 * fc.sample(clientEndingArbitrary(3), 3); // [{ kind: 'leave', after: 2 }, { kind: 'finish' }, { kind: 'error', after: 0 }]
 * ```
 */
export function clientEndingArbitrary(maxSteps = 5): fc.Arbitrary<ClientEnding> {
  const after = fc.nat({ max: maxSteps });
  return fc.oneof(
    fc.constant<ClientEnding>({ kind: 'finish' }),
    fc.record({ kind: fc.constant('leave' as const), after }),
    fc.record({ kind: fc.constant('error' as const), after }),
  );
}

function describeEnding(ending: ClientEnding): string {
  if (ending.kind === 'finish') return 'a client stayed until the exchange was over';
  const when = ending.after === 0 ? 'before the first step' : `after ${ending.after} step(s)`;
  return ending.kind === 'leave' ? `a client left ${when}` : `the exchange failed with an error ${when}`;
}

/**
 * Property-tests any transport for leaks: fast-check opens a few clients at
 * once, makes each end in a generated way (stay to the end, leave after some
 * steps, fail after some steps), and after every run requires `inFlight()`
 * to come back to what it was before the run within `settleMs`. A leak is
 * shrunk (fewer clients, simpler endings, fewer steps) and rejected as a
 * `LeakError` saying, in words, what each client did and what remained.
 *
 * Bounded by `numRuns` and `timeBudgetMs` (3 s by default, inside a test
 * runner's default timeout). Rejects with an `InvalidArgumentError` for a
 * subject without `open`, `drive` and `inFlight`, and an
 * `InvalidOptionsError` for bad options, before any run.
 *
 * @example
 * ```ts
 * const calls = new Map<number, string>();
 * const report = await checkTransportForLeaks({
 *   open: (i) => { calls.set(i, 'running'); return i; },
 *   drive: async (id, ending) => { calls.delete(id); },
 *   inFlight: () => calls.size,
 * });
 * // report.endings: { finish: 41, leave: 38, error: 40 }
 * ```
 */
export async function checkTransportForLeaks<C>(subject: LeakCheckSubject<C>, options: CheckTransportForLeaksOptions = {}): Promise<CheckTransportForLeaksReport> {
  if (!hasMethods(subject, ['open', 'drive', 'inFlight'])) {
    throw invalidArgument(
      'checkTransportForLeaks',
      'subject',
      'an object with open(index), drive(client, ending) and inFlight()',
      subject,
      'Pass { open, drive, inFlight } for your transport: await checkTransportForLeaks({ open: () => connect(), drive: (c, ending) => ..., inFlight: () => calls.size }).',
    );
  }
  checkOptions('checkTransportForLeaks', options, rules);
  options ??= {};
  const settleMs = options.settleMs ?? 1_000;
  const endings: Record<ClientEnding['kind'], number> = { finish: 0, leave: 0, error: 0 };
  const { runs, interrupted } = await runLeakCheck({
    fc,
    name: 'checkTransportForLeaks',
    clients: clientRuns(fc, clientEndingArbitrary(options.maxSteps ?? 5), options.maxClients ?? 4),
    describe: options.describe ?? describeEnding,
    numRuns: options.numRuns ?? 50,
    timeBudgetMs: options.timeBudgetMs ?? 3_000,
    seed: options.seed,
    replayPath: options.replayPath,
    run: async (clients) => {
      // Leftovers of an earlier (failing) run stay in the count: each run is judged on its own.
      const baseline = subject.inFlight();
      await subject.beforeRun?.();
      try {
        await Promise.all(clients.map(async (ending, i) => subject.drive(await subject.open(i), ending)));
        if (!(await settled(() => subject.inFlight() <= baseline, settleMs))) {
          const now = subject.inFlight();
          throw new RunLeak(`${plural(now - baseline, 'entry', 'entries')} remained in flight (${baseline} before the run, ${now} after), ${settleMs} ms after every client was done`);
        }
        for (const ending of clients) endings[ending.kind]++;
      } finally {
        await subject.afterRun?.();
      }
    },
  });
  return { runs, interrupted, endings };
}
