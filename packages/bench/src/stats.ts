/**
 * Robust summary statistics for paired benchmark rounds. Medians rather than
 * means because a single descheduled or GC-heavy round must not move the
 * result; a seeded PRNG so that a rerun on the same samples prints the same
 * confidence interval.
 */

/** The median; for an even count, the mean of the two middle values. Throws on an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Linear-interpolated quantile, `q` in [0, 1] (type 7, as R and NumPy default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('quantile of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Mulberry32: tiny, fast, good enough for resampling, and reproducible from its seed. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Element-wise `a[i] / b[i]`: the ratio of a mode to the baseline measured in the same round. */
export function pairRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`unpaired samples: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x / b[i]!);
}

/** Element-wise `a[i] - b[i]`. */
export function pairDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`unpaired samples: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x - b[i]!);
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/**
 * Percentile bootstrap confidence interval of the median: resample with
 * replacement `resamples` times, take each resample's median, and return the
 * (1−level)/2 and (1+level)/2 quantiles of those. Paired data should be
 * reduced to per-pair values (differences or ratios) first, so that the
 * resampling keeps the pairing.
 */
export function bootstrapMedianCI(
  xs: readonly number[],
  options: { resamples?: number; level?: number; seed?: number } = {},
): Interval {
  const { resamples = 2_000, level = 0.95, seed = 0x5eed } = options;
  if (xs.length === 0) throw new RangeError('bootstrap of an empty list');
  if (resamples < 1) throw new RangeError('resamples must be >= 1');
  const random = mulberry32(seed);
  const medians = new Array<number>(resamples);
  const sample = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(random() * xs.length)]!;
    medians[r] = median(sample);
  }
  return { low: quantile(medians, (1 - level) / 2), high: quantile(medians, (1 + level) / 2) };
}
