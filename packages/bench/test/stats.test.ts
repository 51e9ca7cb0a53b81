import { describe, expect, it } from 'vitest';
import { bootstrapMedianCI, median, mulberry32, pairDifferences, pairRatios, quantile, shuffled } from '../src/stats.js';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the two middles of an even one, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it('does not reorder its input and refuses an empty list', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('quantile', () => {
  it('interpolates linearly between order statistics', () => {
    expect(quantile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10, 20], 0.5)).toBe(15);
  });
});

describe('pair ratios and differences', () => {
  it('pairs element by element', () => {
    expect(pairRatios([50, 60, 45], [50, 40, 50])).toEqual([1, 1.5, 0.9]);
    expect(pairDifferences([50, 60, 45], [50, 40, 50])).toEqual([0, 20, -5]);
  });
  it('refuses unpaired samples', () => {
    expect(() => pairRatios([1, 2], [1])).toThrow(RangeError);
    expect(() => pairDifferences([1], [1, 2])).toThrow(RangeError);
  });
});

describe('mulberry32', () => {
  it('is reproducible from its seed and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(43)()).not.toBe(xs[0]);
  });
  it('shuffles into a permutation, the same one for the same seed', () => {
    const order = shuffled(['a', 'b', 'c', 'd', 'e'], mulberry32(7));
    expect([...order].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(shuffled(['a', 'b', 'c', 'd', 'e'], mulberry32(7))).toEqual(order);
  });
});

describe('bootstrapMedianCI', () => {
  it('collapses to the value when every sample is equal', () => {
    expect(bootstrapMedianCI([3, 3, 3, 3], { resamples: 1000, seed: 1 })).toEqual({ low: 3, high: 3 });
  });
  it('is reproducible for a seed and brackets the sample median inside the sample range', () => {
    const xs = [0.9, 1.1, 1.0, 1.3, 0.95, 1.05, 1.2, 0.85, 1.15, 1.0, 1.02];
    const ci = bootstrapMedianCI(xs, { resamples: 2000, seed: 99 });
    expect(bootstrapMedianCI(xs, { resamples: 2000, seed: 99 })).toEqual(ci);
    expect(ci.low).toBeLessThanOrEqual(median(xs));
    expect(ci.high).toBeGreaterThanOrEqual(median(xs));
    expect(ci.low).toBeGreaterThanOrEqual(Math.min(...xs));
    expect(ci.high).toBeLessThanOrEqual(Math.max(...xs));
    expect(ci.high - ci.low).toBeLessThan(Math.max(...xs) - Math.min(...xs));
  });
  it('narrows as the sample grows', () => {
    const random = mulberry32(5);
    const draw = (n: number) => Array.from({ length: n }, () => random() + random() + random());
    const small = bootstrapMedianCI(draw(9), { resamples: 1000, seed: 3 });
    const large = bootstrapMedianCI(draw(900), { resamples: 1000, seed: 3 });
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
  });
  it('covers a known median: 95% intervals from 200 samples of size 25 contain 0 about 95% of the time', () => {
    const random = mulberry32(2024);
    let covered = 0;
    for (let trial = 0; trial < 200; trial++) {
      const xs = Array.from({ length: 25 }, () => random() - 0.5); // uniform, median 0
      const { low, high } = bootstrapMedianCI(xs, { resamples: 1000, seed: trial });
      if (low <= 0 && 0 <= high) covered++;
    }
    expect(covered / 200).toBeGreaterThan(0.88);
    expect(covered / 200).toBeLessThanOrEqual(1);
  });
  it('refuses empty input', () => {
    expect(() => bootstrapMedianCI([])).toThrow(RangeError);
  });
});
