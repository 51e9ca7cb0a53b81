import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionsError, LeakError } from '../src/errors.js';
import { checkTransportForLeaks, type ClientEnding, type LeakCheckSubject } from '../src/testing/index.js';

/**
 * An in-memory RPC transport: a call streams three progress messages, then replies. The server keeps each
 * call in a map until it ends. The leaky one forgets a call whose client leaves once progress has started.
 */
function inMemoryRpc(leaky: boolean) {
  const calls = new Map<number, { progress: number }>();
  let next = 0;
  const subject: LeakCheckSubject<number> = {
    open: () => {
      const id = ++next;
      calls.set(id, { progress: 0 });
      return id;
    },
    drive: async (id, ending) => {
      try {
        for (let step = 0; step < 3; step++) {
          await Promise.resolve(); // a message crosses the link
          if (ending.kind === 'error' && step === ending.after) throw new Error('handler failed');
          if (ending.kind === 'leave' && step === ending.after) {
            if (!leaky || calls.get(id)!.progress === 0) calls.delete(id);
            return;
          }
          calls.get(id)!.progress++;
        }
        calls.delete(id); // the reply
      } catch {
        calls.delete(id);
      }
    },
    inFlight: () => calls.size,
  };
  return { subject, calls };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('checkTransportForLeaks: a transport-neutral leak check', () => {
  it('passes a transport that forgets nothing, having exercised every ending', async () => {
    const { subject, calls } = inMemoryRpc(false);
    const report = await checkTransportForLeaks(subject, { numRuns: 60, settleMs: 20, timeBudgetMs: 60_000, seed: 7 });
    expect(report.runs).toBe(60);
    expect(report.interrupted).toBe(false);
    expect(report.endings.finish).toBeGreaterThan(0);
    expect(report.endings.leave).toBeGreaterThan(0);
    expect(report.endings.error).toBeGreaterThan(0);
    expect(calls.size).toBe(0);
  });

  it('catches a leaky transport and shrinks it to one client that left after one step, said in words', async () => {
    const { subject } = inMemoryRpc(true);
    const error = await rejection(checkTransportForLeaks(subject, { numRuns: 100, settleMs: 20, timeBudgetMs: 60_000, seed: 1 }));
    expect(error).toBeInstanceOf(LeakError);
    const lines = (error as LeakError).message.split('\n');
    // Earlier failing runs (shrinking) left their own entries behind: each run is judged against its own start.
    expect(lines[0]).toMatch(/^checkTransportForLeaks found a leak: 1 entry remained in flight \((\d+) before the run, \d+ after\), 20 ms after every client was done\.$/);
    const [, before, after] = /\((\d+) before the run, (\d+) after\)/.exec(lines[0]!)!;
    expect(Number(after) - Number(before)).toBe(1);
    expect(lines.slice(1, 3)).toEqual([
      'What the clients did (one client, shrunk from a failing run):',
      '  1. a client left after 1 step(s)',
    ]);
    expect(lines[3]).toMatch(/^Replay it with \{ seed: 1, replayPath: "[\d:]+" \}\.$/);
    expect((error as LeakError).code).toBe('LIFELINE_LEAK');
  });

  it('replays the reported counterexample with its seed and path, in the transport\'s own words', async () => {
    const { subject } = inMemoryRpc(true);
    const first = (await rejection(checkTransportForLeaks(subject, { settleMs: 20, timeBudgetMs: 60_000, seed: 3 }))) as LeakError;
    const describe = (e: ClientEnding) => (e.kind === 'leave' ? `the caller hung up after ${e.after} progress message(s)` : e.kind);
    const again = (await rejection(
      checkTransportForLeaks(inMemoryRpc(true).subject, { settleMs: 20, seed: first.seed, replayPath: first.replayPath!, describe }),
    )) as LeakError;
    expect(again.message.split('\n')[2]).toBe('  1. the caller hung up after 1 progress message(s)');
  });

  it('reports a run that throws as a failure before its leaks could be judged, with the shrunk clients', async () => {
    const subject: LeakCheckSubject<number> = {
      open: (i) => i,
      drive: (_c, ending) => {
        if (ending.kind === 'error') throw new Error('the client could not connect');
      },
      inFlight: () => 0,
    };
    const error = (await rejection(checkTransportForLeaks(subject, { settleMs: 0, seed: 5 }))) as LeakError;
    expect(error.message.split('\n').slice(0, 3)).toEqual([
      'checkTransportForLeaks: a run failed before its leaks could be judged: Error: the client could not connect.',
      'What the clients did (one client, shrunk from a failing run):',
      '  1. the exchange failed with an error before the first step',
    ]);
    expect((error.cause as Error).message).toBe('the client could not connect');
  });

  it('calls beforeRun and afterRun around every run, also when the run leaks', async () => {
    const { subject } = inMemoryRpc(true);
    const hooks: string[] = [];
    await rejection(checkTransportForLeaks({ ...subject, beforeRun: () => void hooks.push('before'), afterRun: () => void hooks.push('after') }, { settleMs: 5, seed: 1 }));
    expect(hooks.length).toBeGreaterThan(2);
    expect(hooks.join(',')).toBe(Array.from({ length: hooks.length / 2 }, () => 'before,after').join(','));
  });

  it('stops once its time budget is spent and says so', async () => {
    const subject: LeakCheckSubject<number> = { open: (i) => i, drive: () => new Promise((r) => setTimeout(r, 20)), inFlight: () => 0 };
    const report = await checkTransportForLeaks(subject, { numRuns: 1_000, timeBudgetMs: 1 });
    expect(report.interrupted).toBe(true);
    expect(report.runs).toBeLessThan(1_000);
  });

  it('refuses a subject without its three functions, and bad options, before any run', async () => {
    const subject = inMemoryRpc(false).subject;
    const noSubject = await rejection(checkTransportForLeaks({ open: () => 1 } as never));
    expect(noSubject).toBeInstanceOf(InvalidArgumentError);
    expect((noSubject as Error).message).toMatch(/^checkTransportForLeaks: argument "subject": expected an object with open\(index\), drive\(client, ending\) and inFlight\(\)/);
    const badOptions = await rejection(checkTransportForLeaks(subject, { numRuns: 0, sttleMs: 5 } as never));
    expect(badOptions).toBeInstanceOf(InvalidOptionsError);
    expect((badOptions as InvalidOptionsError).options).toEqual(['numRuns', 'sttleMs']);
  });
});
