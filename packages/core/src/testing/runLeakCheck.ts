import type * as FastCheck from 'fast-check';
import { LeakError } from '@lifeline/core';

// The core builds without Node's or the DOM's types; every runtime a test runner runs on has a setTimeout.
declare const setTimeout: (callback: () => void, ms: number) => unknown;

/**
 * Why a run leaked, in words. Thrown by a run of {@link runLeakCheck}, it
 * becomes the headline of the `LeakError`; any other throw is reported as a
 * run that failed before its leaks could be judged.
 */
export class RunLeak extends Error {}

/** One leak check, as {@link runLeakCheck} runs it. */
export interface LeakCheck<T> {
  /** fast-check itself, passed in so that a caller may load it lazily (it is an optional peer). */
  readonly fc: Pick<typeof FastCheck, 'asyncProperty' | 'check'>;
  /** The public function's name, for the message. */
  readonly name: string;
  /** What one run does: a non-empty list of clients. */
  readonly clients: FastCheck.Arbitrary<T[]>;
  /** Runs the clients and judges what they left behind, throwing a {@link RunLeak} for a leak. */
  readonly run: (clients: T[]) => Promise<void>;
  /** One client in words, for the message. */
  readonly describe: (client: T) => string;
  readonly numRuns: number;
  readonly timeBudgetMs: number;
  readonly seed: number | undefined;
  readonly replayPath: string | undefined;
}

/**
 * The loop both leak checks share (`checkTransportForLeaks` here,
 * `checkNoLeaks` in `@lifeline/node-adapter/testing`): fast-check runs within
 * a time budget, shrinks a failure, and the failure becomes a `LeakError`
 * that lists what the clients of the shrunk run did. Internal: reached
 * through `@lifeline/core/internal`.
 *
 * @example
 * ```ts
 * const { runs } = await runLeakCheck({ fc, name: 'checkMyThing', clients, run, describe, numRuns: 30, timeBudgetMs: 3_000, seed: undefined, replayPath: undefined });
 * ```
 */
export async function runLeakCheck<T>(check: LeakCheck<T>): Promise<{ runs: number; interrupted: boolean }> {
  const { fc } = check;
  let runs = 0;
  let interrupted = false;
  const deadline = Date.now() + check.timeBudgetMs;
  const property = fc.asyncProperty(check.clients, async (clients) => {
    // Past the budget a run passes without running: generation ends, and so does shrinking, keeping the
    // smallest counterexample so far. A run already under way finishes (fast-check's own time limit would
    // abandon it with its resources still open).
    if (Date.now() >= deadline) {
      interrupted = true;
      return;
    }
    runs++;
    await check.run(clients);
  });
  const details = await fc.check(property, {
    numRuns: check.numRuns,
    ...(check.seed === undefined ? {} : { seed: check.seed }),
    ...(check.replayPath === undefined ? {} : { path: check.replayPath }),
  });
  if (details.failed) {
    const clients = (details.counterexample?.[0] ?? []) as T[];
    const headline =
      details.errorInstance instanceof RunLeak
        ? `${check.name} found a leak: ${details.errorInstance.message}.`
        : `${check.name}: a run failed before its leaks could be judged: ${String(details.errorInstance)}.`;
    throw new LeakError(
      `${headline}\n` +
        `What the clients did (${clients.length === 1 ? 'one client' : `${clients.length} clients at once`}, shrunk from a failing run):\n` +
        clients.map((client, i) => `  ${i + 1}. ${check.describe(client)}`).join('\n') +
        `\nReplay it with { seed: ${details.seed}, replayPath: ${JSON.stringify(details.counterexamplePath)} }.`,
      details.seed,
      details.counterexamplePath ?? undefined,
      details.errorInstance,
    );
  }
  return { runs, interrupted };
}

/**
 * Runs of 1 to `max` clients, shrinking to any single one of them. (`fc.array` with `minLength: 1` cannot drop
 * the last client while keeping the first, so a leak caused by the first would stay paired with an innocent
 * second; filtering out the empty list instead leaves every one-client shrink open.)
 */
export function clientRuns<T>(fc: Pick<typeof FastCheck, 'array'>, client: FastCheck.Arbitrary<T>, max: number): FastCheck.Arbitrary<T[]> {
  return fc.array(client, { maxLength: max }).filter((clients) => clients.length > 0);
}

/** Polls `condition` every 5 ms for up to `ms`; resolves to its last value. */
export async function settled(condition: () => boolean, ms: number): Promise<boolean> {
  const start = Date.now();
  while (!condition() && Date.now() - start < ms) await new Promise<void>((resolve) => setTimeout(resolve, 5));
  return condition();
}

/** `1 entry`, `2 entries`. */
export const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
