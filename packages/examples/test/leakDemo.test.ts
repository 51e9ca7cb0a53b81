import { beforeAll, describe, expect, it } from 'vitest';
import { formatVerdict, runLeakDemo, type LeakDemoResult } from '../src/leakDemo.js';

describe('runLeakDemo: naive finish-only bookkeeping vs the Lifeline registry under the same aborting load', () => {
  const requests = 200;
  let result: LeakDemoResult;

  beforeAll(async () => {
    result = await runLeakDemo({ requests, abortShare: 0.2, concurrency: 20, sampleEveryMs: 10 });
  });

  it('drives both servers with the same 200 requests, 40 of them cut mid-transfer by their client', () => {
    expect(result.naive.load.sent).toBe(requests);
    expect(result.lifeline.load.sent).toBe(requests);
    expect(result.naive.load.aborted).toBe(40);
    expect(result.lifeline.load.aborted).toBe(40);
  });

  it('the naive server leaks exactly the entries of responses that closed without finish', () => {
    expect(result.naive.endings.received).toBe(requests);
    expect(result.naive.endings.closedWithoutFinish).toBeGreaterThan(0);
    expect(result.naive.leftover).toBe(result.naive.endings.closedWithoutFinish);
    expect(result.naive.leftover + result.naive.endings.finished).toBe(requests);
  });

  it('the Lifeline registry returns to 0 and accounts for every request once', () => {
    const { registrySize, stats, endings } = result.lifeline;
    const { finished, closed, errored } = stats.released;
    expect(registrySize).toBe(0);
    expect(stats.opened).toBe(requests);
    expect(closed).toBeGreaterThan(0);
    expect(finished + closed + errored).toBe(requests);
    // Every response Node saw close early is one the registry released as closed or errored, never as finished.
    expect(closed + errored).toBeGreaterThanOrEqual(endings.closedWithoutFinish);
  });

  it('samples both counts over time, the last one after every socket closed', () => {
    const last = result.samples.at(-1)!;
    expect(result.samples.length).toBeGreaterThan(2);
    expect(last.counts).toEqual({ naive: result.naive.leftover, lifeline: 0 });
    expect(Math.max(...result.samples.map((s) => s.counts.lifeline))).toBeGreaterThan(0);
  });

  it('states the verdict from the measured numbers', () => {
    const { finished, closed, errored } = result.lifeline.stats.released;
    expect(formatVerdict(result)).toBe(
      `verdict: naive server leaked ${result.naive.leftover} of ${requests} entries; ` +
        `Lifeline registry returned to 0 (finished ${finished}, closed ${closed}, errored ${errored})`,
    );
  });
});
