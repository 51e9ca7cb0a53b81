/**
 * Sizes of the quick run (a smoke check, < 5 minutes) and the full run (the
 * numbers to quote, < 20 minutes on the 2-core VM). Per-pair ratios of cheap
 * modes spread 0.80–1.50 on this machine type, so the full run buys rounds
 * first and requests per round second.
 */
import { MODE_NAMES, type ModeName } from './modes.js';
import { PATHS } from './protocol.js';

export const SCENARIO_NAMES = ['hello', 'file64k', 'abort10'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioConfig {
  readonly path: string;
  readonly warmup: number;
  /** Requests in the measured window (aborting ones included). */
  readonly requests: number;
  /** See `LoadOptions.abortEvery`. */
  readonly abortEvery: number;
}

export interface BenchConfig {
  readonly full: boolean;
  /** Each round runs every mode (bare included) in a fresh server child, in shuffled order; see cpuPerRequest.ts. */
  readonly rounds: number;
  readonly concurrency: number;
  /** A round's N requests per mode are sent in this many slices, alternating between the modes. */
  readonly slices: number;
  readonly scenarios: Record<ScenarioName, ScenarioConfig>;
  readonly modes: readonly ModeName[];
  readonly memory: {
    /** Rounds of the in-flight test; each runs bare and every tracking mode in both hold states. */
    readonly rounds: number;
    readonly connections: number;
    readonly modes: readonly ModeName[];
  };
  readonly growth: { readonly warmup: number; readonly requests: number; readonly checkpoints: number };
  /** Rounds of the import cost section; each round imports every module once, each in a fresh process. */
  readonly importCost: { readonly rounds: number };
  readonly bootstrapResamples: number;
  readonly seed: number;
}

export function benchConfig(full: boolean): BenchConfig {
  const scale = (quick: number, precise: number) => (full ? precise : quick);
  return {
    full,
    rounds: scale(5, 15),
    concurrency: 16,
    slices: scale(2, 4),
    scenarios: {
      hello: { path: PATHS.hello, warmup: scale(3_000, 5_000), requests: scale(6_000, 20_000), abortEvery: 0 },
      file64k: { path: PATHS.file, warmup: scale(500, 1_000), requests: scale(1_000, 4_000), abortEvery: 0 },
      abort10: { path: PATHS.body, warmup: scale(1_000, 2_000), requests: scale(3_000, 10_000), abortEvery: 10 },
    },
    modes: MODE_NAMES,
    memory: {
      rounds: scale(1, 3),
      // 10,000 in both: the per-connection cost depends on the count (Map and listener-array growth steps), and it is cheap.
      connections: 10_000,
      modes: ['bare', 'lifeline-instrument', 'lifeline-instrument-journal8', 'lifeline-track', 'on-finished', 'onfinished-dropin', 'handwritten'],
    },
    growth: { warmup: scale(5_000, 10_000), requests: scale(40_000, 200_000), checkpoints: 4 },
    importCost: { rounds: scale(15, 31) },
    bootstrapResamples: 2_000,
    seed: 20_240_611,
  };
}
