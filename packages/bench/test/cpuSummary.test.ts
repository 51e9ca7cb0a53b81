import { describe, expect, it } from 'vitest';
import type { BenchConfig } from '../src/config.js';
import type { CpuSample } from '../src/cpuPerRequest.js';
import type { ModeName } from '../src/modes.js';
import { atMost, pairedDifference, summarizeCpu } from '../src/summary.js';

const config = { bootstrapResamples: 300, seed: 7 } as BenchConfig;

function sample(round: number, mode: ModeName, cpuUsPerRequest: number, partnerBareUsPerRequest?: number): CpuSample {
  return {
    round,
    mode,
    scenario: 'hello',
    cpuUsPerRequest,
    ...(partnerBareUsPerRequest === undefined ? {} : { partnerBareUsPerRequest }),
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

describe('CPU summary: each mode against the bare server loaded alongside it', () => {
  // Round 1 ran on a slow moment (everything +10 µs); the windows' own bare partners carry that moment.
  const samples = [
    sample(0, 'bare', 30),
    sample(0, 'handwritten', 31, 30),
    sample(0, 'lifeline-instrument', 31.5, 30.2),
    sample(1, 'bare', 40),
    sample(1, 'handwritten', 42, 41),
    sample(1, 'lifeline-instrument', 41.4, 40.1),
    sample(2, 'bare', 31),
    sample(2, 'handwritten', 32, 31),
    sample(2, 'lifeline-instrument', 32.3, 31),
  ];

  it('takes Δ against the partner windows, not against bare’s whole-round figure', () => {
    const d = pairedDifference(samples, 'hello', 'handwritten', 'bare', config);
    expect(d.median).toBeCloseTo(1, 10);
    const ratios = summarizeCpu(samples, config).find((s) => s.mode === 'handwritten')!.ratio!;
    // Round 1: 42 over its partner's 41, not over bare's 40 for the whole round.
    expect(ratios.min).toBeCloseTo(42 / 41, 10);
    expect(ratios.max).toBeCloseTo(31 / 30, 10);
  });

  it('compares two modes as the difference of their Δs against their own partners', () => {
    // Per round: (31.5 − 30.2) − (31 − 30) = 0.3, (41.4 − 40.1) − (42 − 41) = 0.3, (32.3 − 31) − (32 − 31) = 0.3
    const d = pairedDifference(samples, 'hello', 'lifeline-instrument', 'handwritten', config);
    expect(d.median).toBeCloseTo(0.3, 10);
    expect(d.ci.low).toBeCloseTo(0.3, 10);
    expect(d.ci.high).toBeCloseTo(0.3, 10);
  });

  it('falls back to bare’s own figure for the round when a sample has no partner (older results)', () => {
    const old = [sample(0, 'bare', 30), sample(0, 'handwritten', 31.25)];
    expect(pairedDifference(old, 'hello', 'handwritten', 'bare', config).median).toBeCloseTo(1.25, 10);
  });
});

describe('atMost: a target is met only when its whole interval is on the right side of the bound', () => {
  it('is met when the interval lies at or below the bound', () => {
    expect(atMost('x', { median: 0.05, ci: { low: -0.05, high: 0.15 } }, 0.15)).toMatchObject({ met: true });
    expect(atMost('x', { median: 0.05, ci: { low: -0.05, high: 0.15 } }, 0.15).note).toBeUndefined();
  });

  it('is not met, and says it is not conclusive, when the interval straddles the bound even with the median inside', () => {
    const verdict = atMost('x', { median: 0.1, ci: { low: -0.2, high: 0.4 } }, 0.15);
    expect(verdict.met).toBe(false);
    expect(verdict.note).toMatch(/not conclusive/);
  });

  it('is plainly not met when the whole interval is above the bound', () => {
    const verdict = atMost('x', { median: 0.6, ci: { low: 0.3, high: 0.9 } }, 0.15);
    expect(verdict).toMatchObject({ met: false });
    expect(verdict.note).toBeUndefined();
  });

  it('strict: an interval touching the bound is not below it', () => {
    expect(atMost('x', { median: -0.5, ci: { low: -1, high: 0 } }, 0, { strict: true }).met).toBe(false);
    expect(atMost('x', { median: -0.5, ci: { low: -1, high: -0.01 } }, 0, { strict: true }).met).toBe(true);
  });
});
