import { describe, expect, it } from 'vitest';
import { parseCounters } from '../src/callgrind.js';
import { irAtMost, irDifference, judgeInstructions, perRequest, signedIr, summarizeInstructions, type IrSample, type IrScenario } from '../src/instructionSummary.js';
import type { ModeName } from '../src/modes.js';
import type { TargetResult } from '../src/summary.js';

const options = { resamples: 300, seed: 7 };

/** A process whose windows counted `perRequest` instructions per request each (main thread: 70% of them). */
function sample(round: number, mode: ModeName, windows: readonly number[], scenario: IrScenario = 'hello'): IrSample {
  return {
    round,
    scenario,
    mode,
    node: 'v24.0.0',
    settle: [],
    settled: true,
    windows: windows.map((x) => ({ requests: 1000, total: x * 1000, main: 0.7 * x * 1000, gcCount: 5 })),
    seconds: { start: 1, warmup: 1, settle: 1, measured: 1 },
  };
}

describe('callgrind_control -e output', () => {
  const output = [
    'PID 4242: node --expose-gc server.mjs bare /tmp/x',
    'sending command status internal to pid 4242',
    '',
    '  Totals:         Ir ',
    '   Th 1  40,768,599 ',
    '   Th 2           0 ',
    '   Th 3       6,722 ',
    '   Th 6   2,649,596 ',
    '',
  ].join('\n');

  it('adds every thread’s count into the total and keeps the main thread’s apart', () => {
    expect(parseCounters(output)).toEqual({ total: 40_768_599 + 6_722 + 2_649_596, main: 40_768_599, threads: { 1: 40_768_599, 2: 0, 3: 6_722, 6: 2_649_596 } });
  });

  it('refuses output without the main thread’s count rather than reporting zero', () => {
    expect(() => parseCounters('PID 4242: node\n  Totals:  Ir\n   Th 3  6,722\n')).toThrow(/thread 1/);
    expect(() => parseCounters('Error: no callgrind process with pid 4242\n')).toThrow(/thread 1/);
  });
});

describe('instructions per request of one process: the median of its windows', () => {
  it('ignores one window inflated by a burst of helper-thread work', () => {
    expect(perRequest(sample(0, 'bare', [42_000, 57_000, 42_400]))).toEqual({ total: 42_400, main: 0.7 * 42_400, lowestMain: 0.7 * 42_000 });
  });

  it('refuses a process without windows', () => {
    expect(() => perRequest({ windows: [] })).toThrow(RangeError);
  });
});

describe('differences are taken per round, each side from its own process of that round', () => {
  // Round 1's processes all count 1,000 more (say, a different code layout): the pairs carry it.
  const samples = [
    sample(0, 'bare', [42_000]),
    sample(0, 'handwritten', [46_500]),
    sample(0, 'lifeline-instrument', [45_800]),
    sample(0, 'on-finished', [48_000]),
    sample(1, 'bare', [43_000]),
    sample(1, 'handwritten', [47_500]),
    sample(1, 'lifeline-instrument', [46_700]),
    sample(1, 'on-finished', [49_100]),
    sample(2, 'bare', [42_100]),
    sample(2, 'handwritten', [46_500]),
    sample(2, 'lifeline-instrument', [45_900]),
    // no on-finished in round 2
  ];

  it('pairs mode and base within each round and skips rounds missing either', () => {
    expect(irDifference(samples, 'hello', 'handwritten', 'bare', options)).toMatchObject({ median: 4_500, rounds: 3 });
    const d = irDifference(samples, 'hello', 'lifeline-instrument', 'on-finished', options)!;
    // Rounds 0 and 1 only: −2,200 and −2,400.
    expect(d.rounds).toBe(2);
    expect(d.median).toBe(-2_300);
    expect(d.ci.low).toBeGreaterThanOrEqual(-2_400);
    expect(d.ci.high).toBeLessThanOrEqual(-2_200);
  });

  it('is undefined when the scenario has no round with both sides', () => {
    expect(irDifference(samples, 'h2core', 'handwritten', 'bare', options)).toBeUndefined();
  });

  it('summarizes each mode in the order given, with Δ as a share of bare', () => {
    const rows = summarizeInstructions(samples, () => ['bare', 'handwritten', 'lifeline-instrument'], options);
    expect(rows.map((r) => r.mode)).toEqual(['bare', 'handwritten', 'lifeline-instrument']);
    expect(rows[0]).toMatchObject({ total: 42_100, rounds: 3, gcPer1k: 5 });
    expect(rows[0]!.diff).toBeUndefined();
    expect(rows[1]!.diff!.median).toBe(4_500);
    expect(rows[1]!.mainDiff!.median).toBeCloseTo(0.7 * 4_500, 6);
    expect(rows[1]!.diffPercent).toBeCloseTo((100 * 4_500) / 42_100, 10);
  });
});

describe('irAtMost: a target is met only when its whole interval is on the right side of the bound', () => {
  const at = (low: number, high: number) => ({ median: (low + high) / 2, ci: { low, high }, rounds: 5 });

  it('is met when the interval lies at or below the bound, and not conclusive when it straddles it', () => {
    expect(irAtMost('x', at(-900, 0), 0, '≤ 0').met).toBe(true);
    const straddles = irAtMost('x', at(-900, 300), 0, '≤ 0');
    expect(straddles.met).toBe(false);
    expect(straddles.note).toMatch(/not conclusive/);
    expect(irAtMost('x', at(200, 900), 0, '≤ 0')).toMatchObject({ met: false });
  });

  it('strict: an interval touching the bound is not below it', () => {
    expect(irAtMost('x', at(-900, 0), 0, '< 0', true).met).toBe(false);
    expect(irAtMost('x', at(-900, -1), 0, '< 0', true).met).toBe(true);
  });

  it('is not met when nothing was measured', () => {
    expect(irAtMost('x', undefined, 0, '≤ 0')).toMatchObject({ met: false, measured: 'not measured' });
  });
});

describe('judgeInstructions', () => {
  const rounds = [0, 1, 2, 3, 4];
  const hello = rounds.flatMap((r) => [
    sample(r, 'bare', [42_000 + 50 * r]),
    sample(r, 'bare-control', [42_000 + 50 * r + (r % 2 === 0 ? 150 : -150)]),
    sample(r, 'handwritten', [46_500 + 50 * r]),
    sample(r, 'lifeline-instrument', [45_500 + 50 * r + 20 * r]),
    sample(r, 'lifeline-track', [47_000 + 50 * r]),
    sample(r, 'on-finished', [48_000 + 50 * r]),
  ]);
  const verdicts = (samples: IrSample[]) => {
    const summary = summarizeInstructions(samples, () => ['bare', 'bare-control', 'handwritten', 'lifeline-instrument', 'lifeline-track', 'on-finished'], options);
    return new Map(judgeInstructions(samples, summary, options).map((t) => [t.name, t]));
  };

  it('judges instrument against the floor and on-finished, track against the floor plus 2.5% of bare, and the A/A control around zero', () => {
    const v = verdicts(hello);
    expect(v.get('hello: lifeline-instrument − handwritten floor')?.met).toBe(true);
    expect(v.get('hello: lifeline-instrument − on-finished')?.met).toBe(true);
    // +500 over the floor, against a bound of 2.5% of bare (about 1,050).
    expect(v.get('hello: lifeline-track − handwritten floor')?.met).toBe(true);
    expect(v.get('hello: lifeline-track − handwritten floor')?.target).toMatch(/2\.5% of bare/);
    expect(v.get('hello: A/A control, bare-control − bare (two identical processes)')?.met).toBe(true);
    expect([...v.keys()].some((name) => name.startsWith('h2core'))).toBe(false);
  });

  it('judges instrument against the floor in each HTTP/2 API and in the abort scenario, each on its own samples', () => {
    // h2core: instrument 300 under the floor; h2compat: 2,000 over it; abort10: 100 under, with a spread that reaches over.
    const per = (scenario: IrScenario, floor: number, instrument: (r: number) => number) =>
      rounds.flatMap((r) => [
        sample(r, 'bare', [80_000], scenario),
        sample(r, 'bare-control', [80_000 + (r % 2 === 0 ? 100 : -100)], scenario),
        sample(r, 'handwritten', [floor], scenario),
        sample(r, 'lifeline-instrument', [instrument(r)], scenario),
      ]);
    const v = verdicts([
      ...per('h2core', 84_000, () => 83_700),
      ...per('h2compat', 84_000, () => 86_000),
      ...per('abort10', 84_000, (r) => 84_000 + [-400, -100, 300, -250, -50][r]!),
    ]);
    const floorTarget = (scenario: string) => [...v.values()].find((t) => t.name.startsWith(`${scenario}: lifeline-instrument − handwritten`));
    expect([floorTarget('h2core')?.met, floorTarget('h2compat')?.met, floorTarget('abort10')?.met]).toEqual([true, false, false]);
    // Judged on the main thread (70% of each window here): +1,400 per stream against 1% of bare's 56,000.
    expect(floorTarget('h2compat')?.measured).toMatch(/^\+1,400/);
    expect(floorTarget('h2compat')?.target).toMatch(/^≤ \+560 Ir\/stream = 1\.0% of bare/);
    expect(floorTarget('abort10')?.note).toMatch(/straddles|not conclusive/);
    expect(['h2core', 'h2compat', 'abort10'].map((x) => v.get(`${x}: A/A control, bare-control − bare (two identical processes)`)?.met)).toEqual([true, true, true]);
    expect([...v.keys()].some((name) => name.startsWith('hello'))).toBe(false);
  });

  it('judges HTTP/2 on each process\'s lowest main-thread window, within 1% of bare over the floor: a major GC in two of three windows is not charged', () => {
    const rounds5 = [0, 1, 2, 3, 4];
    const h2 = (instrument: readonly number[]) =>
      rounds5.flatMap((r) => [
        sample(r, 'bare', [80_000, 80_100, 95_000], 'h2core'),
        sample(r, 'bare-control', [80_050, 94_000, 80_000], 'h2core'),
        sample(r, 'handwritten', [82_000, 82_050, 82_100], 'h2core'),
        sample(r, 'lifeline-instrument', instrument, 'h2core'),
      ]);
    const target = (v: Map<string, TargetResult>) => [...v.values()].find((t) => t.name.startsWith('h2core: lifeline-instrument − handwritten'))!;
    // Lowest windows 500 over the floor (350 on the main thread, under 1% of bare's 56,000), though the median window is a GC's.
    const withGcs = target(verdicts(h2([82_500, 110_000, 120_000])));
    expect(withGcs.met).toBe(true);
    expect(withGcs.measured).toMatch(/^\+350/);
    // 1,000 over the floor in every window: 700 on the main thread, over the bound.
    expect(target(verdicts(h2([83_000, 83_000, 83_000]))).met).toBe(false);
  });

  it('fails the A/A control when two identical servers differ in every round', () => {
    const skewed = hello.map((s) => (s.mode === 'bare-control' ? sample(s.round, 'bare-control', [perRequest(s).total + 900]) : s));
    const control = verdicts(skewed).get('hello: A/A control, bare-control − bare (two identical processes)')!;
    expect(control.met).toBe(false);
    expect(control.note).toMatch(/harness/);
  });

  it('fails track when it costs more than the floor plus 2.5% of bare', () => {
    const costly = hello.map((s) => (s.mode === 'lifeline-track' ? sample(s.round, 'lifeline-track', [perRequest(s).total + 1_500]) : s));
    expect(verdicts(costly).get('hello: lifeline-track − handwritten floor')?.met).toBe(false);
  });
});

describe('signedIr', () => {
  it('rounds, groups thousands and signs with a true minus', () => {
    expect([signedIr(4_512.4), signedIr(-56.6), signedIr(0)]).toEqual(['+4,512', '−57', '+0']);
  });
});
