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
 * The mean of the values left after dropping the lowest and the highest `proportion` of them (each side,
 * rounded down: with 10 values and 0.2, the two lowest and the two highest). 0 is the mean; near 0.5 it tends
 * to the median. A 20% trimmed mean keeps the median's indifference to a few wild values (a round spoiled by
 * the machine) but wastes less of the rest: on values spread like a bell it needs about two thirds of the
 * samples the median needs for the same interval. Throws on an empty list or a proportion outside [0, 0.5).
 */
export function trimmedMean(xs: readonly number[], proportion = 0.2): number {
  if (xs.length === 0) throw new RangeError('trimmed mean of an empty list');
  if (!(proportion >= 0 && proportion < 0.5)) throw new RangeError(`trim proportion must be in [0, 0.5), got ${proportion}`);
  const s = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(s.length * proportion);
  let sum = 0;
  for (let i = cut; i < s.length - cut; i++) sum += s[i]!;
  return sum / (s.length - 2 * cut);
}

/**
 * Percentile bootstrap confidence interval of `statistic`: resample with
 * replacement `resamples` times, apply `statistic` to each resample, and
 * return the (1−level)/2 and (1+level)/2 quantiles of those. Paired data
 * should be reduced to per-pair values (differences or ratios) first, so that
 * the resampling keeps the pairing.
 */
export function bootstrapCI(
  xs: readonly number[],
  statistic: (sample: readonly number[]) => number,
  options: { resamples?: number; level?: number; seed?: number } = {},
): Interval {
  const { resamples = 2_000, level = 0.95, seed = 0x5eed } = options;
  if (xs.length === 0) throw new RangeError('bootstrap of an empty list');
  if (resamples < 1) throw new RangeError('resamples must be >= 1');
  const random = mulberry32(seed);
  const stats = new Array<number>(resamples);
  const sample = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(random() * xs.length)]!;
    stats[r] = statistic(sample);
  }
  return { low: quantile(stats, (1 - level) / 2), high: quantile(stats, (1 + level) / 2) };
}

/** {@link bootstrapCI} of the median. */
export function bootstrapMedianCI(xs: readonly number[], options: { resamples?: number; level?: number; seed?: number } = {}): Interval {
  return bootstrapCI(xs, median, options);
}
