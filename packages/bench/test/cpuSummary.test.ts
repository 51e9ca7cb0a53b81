import { describe, expect, it } from 'vitest';
import type { BenchConfig } from '../src/config.js';
import type { CpuSample } from '../src/cpuPerRequest.js';
import type { ModeName } from '../src/modes.js';
import { median } from '../src/stats.js';
import { atMost, helloStopReason, judgeResolution, pairedDifference, summarizeCpu } from '../src/summary.js';

const config = { bootstrapResamples: 300, seed: 7 } as BenchConfig;

function sample(round: number, mode: ModeName, cpuUsPerRequest: number, windowUsPerRequest?: number[]): CpuSample {
  return {
    round,
    mode,
    scenario: 'hello',
    cpuUsPerRequest,
    meanUsPerRequest: cpuUsPerRequest,
    ...(windowUsPerRequest === undefined ? {} : { windowUsPerRequest }),
    systemUsPerRequest: 0,
    requests: 1000,
    aborted: 0,
    closesWithError: 0,
    loadMs: 1,
    gcUsPerRequest: 0,
    gcPer1k: 0,
    loadCpuUsPerRequest: 0,
    node: 'v24.0.0',
  };
}

describe('CPU summary: each mode against the bare child of its own round', () => {
  // Round 1 ran on a slow moment (everything +10 µs): pairing within the round keeps it out of the Δs.
  const samples = [
    sample(0, 'bare', 30),
    sample(0, 'handwritten', 31),
    sample(0, 'lifeline-instrument', 31.3),
    sample(1, 'bare', 40),
    sample(1, 'handwritten', 41),
    sample(1, 'lifeline-instrument', 41.3),
    sample(2, 'bare', 31),
    sample(2, 'handwritten', 32),
    sample(2, 'lifeline-instrument', 32.3),
    // A round in which bare's child failed to give a sample: no pair, so it counts for nothing.
    sample(3, 'handwritten', 99),
  ];

  it('takes Δ and ratio against the same round’s bare, never across rounds', () => {
    const d = pairedDifference(samples, 'hello', 'handwritten', 'bare', config);
    expect(d.center).toBeCloseTo(1, 10);
    expect(d.ci.high).toBeCloseTo(1, 10);
    const row = summarizeCpu(samples, config).find((s) => s.mode === 'handwritten')!;
    expect(row.rounds).toBe(3);
    expect(row.ratio!.min).toBeCloseTo(41 / 40, 10);
    expect(row.ratio!.max).toBeCloseTo(31 / 30, 10);
  });

  it('over rounds, takes the 20% trimmed mean: a round a noisy neighbour spoiled is dropped whole, the rest averaged', () => {
    // Ten rounds: Δs 1.0 to 1.8 in steps of 0.1 (handwritten − bare), and one spoiled round at +9.
    const deltas = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 9];
    const rounds = deltas.flatMap((d, r) => [sample(r, 'bare', 20), sample(r, 'handwritten', 20 + d)]);
    const d = pairedDifference(rounds, 'hello', 'handwritten', 'bare', config);
    // Two dropped at each end (1.0, 1.1 and 1.8, 9): the mean of 1.2 … 1.7 is 1.45; the plain mean would be 2.06.
    expect(d.center).toBeCloseTo(1.45, 10);
    expect(d.ci.low).toBeGreaterThanOrEqual(1.0);
    expect(d.ci.low).toBeLessThanOrEqual(d.center);
    expect(d.ci.high).toBeGreaterThanOrEqual(d.center);
  });

  it('compares two modes round by round', () => {
    const d = pairedDifference(samples, 'hello', 'lifeline-instrument', 'handwritten', config);
    expect(d.center).toBeCloseTo(0.3, 10);
    expect(d.ci.low).toBeCloseTo(0.3, 10);
    expect(d.ci.high).toBeCloseTo(0.3, 10);
  });
});

describe('CPU summary: within a round, each window against the same slice’s bare window', () => {
  // Slice 2 of the round ran on a slow stretch (+6 µs on both servers); slice 3's handwritten window met a burst.
  const bare = [20, 20.2, 26.1, 20.1, 19.9];
  const handwritten = [21.5, 21.6, 27.4, 29, 21.3];
  const samples = [sample(0, 'bare', 20.1, bare), sample(0, 'handwritten', 21.6, handwritten)];

  it('takes the median of the per-slice differences and ratios', () => {
    // Per slice: 1.5, 1.4, 1.3, 8.9, 1.4 → median 1.4 (the whole-round medians would say 21.6 − 20.1 = 1.5).
    expect(pairedDifference(samples, 'hello', 'handwritten', 'bare', config).center).toBeCloseTo(1.4, 10);
    const ratio = summarizeCpu(samples, config).find((s) => s.mode === 'handwritten')!.ratio!;
    expect(ratio.center).toBeCloseTo(median(handwritten.map((w, i) => w / bare[i]!)), 10);
  });

  it('falls back to the whole-round figures when either side has no windows, or not one per slice', () => {
    const uneven = [sample(0, 'bare', 20.1, bare), sample(0, 'handwritten', 21.6, [21.5, 21.6])];
    expect(pairedDifference(uneven, 'hello', 'handwritten', 'bare', config).center).toBeCloseTo(1.5, 10);
    const none = [sample(0, 'bare', 20.1), sample(0, 'handwritten', 21.6, handwritten)];
    expect(pairedDifference(none, 'hello', 'handwritten', 'bare', config).center).toBeCloseTo(1.5, 10);
  });
});

describe('atMost: a target is met only when its whole interval is on the right side of the bound', () => {
  it('is met when the interval lies at or below the bound', () => {
    expect(atMost('x', { center: 0.05, ci: { low: -0.05, high: 0.15 } }, 0.15)).toMatchObject({ met: true });
    expect(atMost('x', { center: 0.05, ci: { low: -0.05, high: 0.15 } }, 0.15).note).toBeUndefined();
  });

  it('is not met, and says it is not conclusive, when the interval straddles the bound even with the median inside', () => {
    const verdict = atMost('x', { center: 0.1, ci: { low: -0.2, high: 0.4 } }, 0.15);
    expect(verdict.met).toBe(false);
    expect(verdict.note).toMatch(/not conclusive/);
  });

  it('is plainly not met when the whole interval is above the bound', () => {
    const verdict = atMost('x', { center: 0.6, ci: { low: 0.3, high: 0.9 } }, 0.15);
    expect(verdict).toMatchObject({ met: false });
    expect(verdict.note).toBeUndefined();
  });

  it('strict: an interval touching the bound is not below it', () => {
    expect(atMost('x', { center: -0.5, ci: { low: -1, high: 0 } }, 0, { strict: true }).met).toBe(false);
    expect(atMost('x', { center: -0.5, ci: { low: -1, high: -0.01 } }, 0, { strict: true }).met).toBe(true);
  });
});

describe('helloStopReason: the full run adds hello rounds until the Δs are resolved or its time is up', () => {
  const stopConfig = { ...config, full: true, rounds: 3, resolutionUs: 0.15, helloRounds: { min: 4, max: 100, budgetMinutes: 60 } } as BenchConfig;
  // Per round Δ of handwritten − bare: `steady` gives the same Δ every round (a zero-width interval), `spread` does not.
  const rounds = (n: number, delta: (round: number) => number) =>
    Array.from({ length: n }, (_, r) => [sample(r, 'bare', 20), sample(r, 'handwritten', 20 + delta(r))]).flat();
  const steady = (n: number) => rounds(n, () => 1.5);
  const spread = (n: number) => rounds(n, (r) => (r % 2 === 0 ? 0.5 : 2.5));

  it('goes on before the minimum rounds, and before the other scenarios have their rounds, however narrow the interval', () => {
    expect(helloStopReason(steady(3), stopConfig, 3, 0)).toBeUndefined();
    expect(helloStopReason(steady(4), { ...stopConfig, rounds: 5 } as BenchConfig, 4, 999)).toBeUndefined();
  });

  it('stops once every Δ is resolved, and says so with the widths', () => {
    expect(helloStopReason(steady(4), stopConfig, 4, 0)).toBe('resolved (every hello Δ to ±0.15 µs)');
  });

  it('goes on while a Δ is wider than the resolution and time is left, and stops when the budget is spent', () => {
    expect(helloStopReason(spread(8), stopConfig, 8, 59.9)).toBeUndefined();
    expect(helloStopReason(spread(8), stopConfig, 8, 60)).toBe('time budget of 60 minutes spent (60 min)');
  });

  it('with modes measured in fewer rounds, the verdict gives the range of rounds and sizes the rounds needed on the widest mode', () => {
    // handwritten has 4 rounds (results from before every round ran every mode); lifeline-track all 8, still wide.
    const uneven = Array.from({ length: 8 }, (_, r) => [sample(r, 'bare', 20), ...(r < 4 ? [sample(r, 'handwritten', 21.5)] : []), sample(r, 'lifeline-track', r % 2 === 0 ? 20.5 : 22.5)]).flat();
    const summary = summarizeCpu(uneven, stopConfig);
    expect(summary.map((s) => [s.mode, s.rounds])).toEqual([['bare', 8], ['handwritten', 4], ['lifeline-track', 8]]);
    const verdict = judgeResolution(summary, stopConfig);
    expect(verdict.met).toBe(false);
    expect(verdict.measured).toMatch(/\(lifeline-track\).* over 4 to 8 rounds/);
    const half = (summary.find((s) => s.mode === 'lifeline-track')!.diffUs!.ci.high - summary.find((s) => s.mode === 'lifeline-track')!.diffUs!.ci.low) / 2;
    expect(verdict.note).toContain(`needs about ${Math.ceil(8 * (half / 0.15) ** 2)} rounds`);
  });

  it('the resolution verdict names the rounds and why the run stopped when it is not met', () => {
    const verdict = judgeResolution(summarizeCpu(spread(8), stopConfig), stopConfig, { rounds: 8, stoppedBy: 'time budget of 60 minutes spent' });
    expect(verdict.met).toBe(false);
    expect(verdict.note).toMatch(/the run stopped at 8 rounds: time budget of 60 minutes spent$/);
  });
});
