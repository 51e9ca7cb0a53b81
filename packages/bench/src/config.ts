/**
 * Sizes of the quick run (about 5 minutes, 3–4 of them the CPU section, a wider interval)
 * and the full run (the numbers to quote, up to about 90 minutes on the 2-core VM).
 * Each server is loaded alone on its core in short interleaved windows
 * (cpuPerRequest.ts); what is left of the noise is the machine's moment-to-moment
 * noise, which more, shorter windows per round pair away, and the cost's spread
 * between fresh processes (code layout, JIT decisions: a standard deviation of
 * about 0.4–0.5 µs per request between two bare servers on the 2-core VM), which
 * only more rounds (fresh children) shrink. So the full run gives the hello
 * scenario, whose Δs the run must resolve to ±0.15 µs, 24 windows per round and
 * as many rounds as that takes: it stops adding rounds once every Δ is resolved,
 * or at its time budget (and then says so).
 */
import { MODE_NAMES, type ModeName } from './modes.js';
import { PATHS } from './protocol.js';

export const SCENARIO_NAMES = ['hello', 'file64k', 'abort10', 'h2core', 'h2compat'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioConfig {
  readonly path: string;
  /**
   * Requests per warm-up window; warm-up windows repeat until the cost per request is stable (one within 3% of the
   * one before), at most `warmupMaxChunks` of them: all of them when that is 2 or less.
   */
  readonly warmup: number;
  readonly warmupMaxChunks: number;
  /** Served by an HTTP/2 server child (core API or compat API), loaded through client sessions. */
  readonly http2?: 'core' | 'compat';
  /** Requests in the measured window (aborting ones included). */
  readonly requests: number;
  /**
   * A round's `requests` per mode are sent in this many windows per child, one child loaded at a time, every
   * mode visited once per slice in a new order: more, shorter windows pair a mode with bare more closely in time.
   */
  readonly slices: number;
  /** See `LoadOptions.abortEvery`. */
  readonly abortEvery: number;
}

export interface BenchConfig {
  readonly full: boolean;
  /** Each round runs every mode (bare included) in a fresh server child, in shuffled order; see cpuPerRequest.ts. */
  readonly rounds: number;
  /**
   * Rounds of the hello scenario on the main server node (the other scenarios run `rounds`): `min`, then one
   * more at a time until every hello Δ's 95% half-width is at most `resolutionUs`, `max` rounds ran, or the
   * main node's CPU section has run `budgetMinutes` (each checked after a round).
   */
  readonly helloRounds: { readonly min: number; readonly max: number; readonly budgetMinutes: number };
  /** Concurrency of the memory section's in-process load (Node's http client). */
  readonly concurrency: number;
  /** The load child's shape for HTTP/1 scenarios (raw keep-alive connections) and HTTP/2 ones (sessions × streams). */
  readonly http1Load: { readonly connections: number; readonly pipeline: number; readonly streams: number };
  readonly http2Load: { readonly connections: number; readonly pipeline: number; readonly streams: number };
  /** The hello scenario's Δ µs (mode − bare) the run should resolve: the 95% interval's half-width. */
  readonly resolutionUs: number;
  /** Other Node majors whose servers the full run also measures on the hello scenario (installed ones only). */
  readonly otherNodes: readonly string[];
  readonly otherNodeRounds: number;
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
  /** The in-process exporter cost section (exporterCost.ts): rounds, and requests per child untimed then timed. */
  readonly exporterCost: { readonly rounds: number; readonly warmup: number; readonly requests: number };
  readonly bootstrapResamples: number;
  readonly seed: number;
}

export function benchConfig(full: boolean): BenchConfig {
  const scale = (quick: number, precise: number) => (full ? precise : quick);
  return {
    full,
    rounds: scale(3, 10),
    helloRounds: full ? { min: 48, max: 600, budgetMinutes: 75 } : { min: 4, max: 4, budgetMinutes: Number.POSITIVE_INFINITY },
    concurrency: 16,
    http1Load: { connections: 32, pipeline: 1, streams: 1 },
    http2Load: { connections: 4, pipeline: 1, streams: 32 },
    resolutionUs: 0.15,
    otherNodes: full ? ['20', '22', '26'] : [],
    otherNodeRounds: 5,
    scenarios: {
      // hello: windows of 1,000 requests (about 20 ms of server CPU). Measured on the 2-core VM (12 rounds each,
      // bare, bare-control, handwritten, instrument, track): 24 windows of 1,000 gave a per-round spread of the Δs
      // of 0.47–0.78 µs where 4 windows of 6,000 gave 0.83–1.02.
      // Warm-up: 20,000 requests (2 windows of 10,000). From the first request on (6 fresh bundled processes per
      // mode, Node 24, windows of 1,000), bare's cost per request settles within about 12,000 requests and the
      // trackers' Δs within about 20,000. The stability test (up to 6 windows until one is within 3% of the one
      // before) never stopped before the third window, since the first always holds the JIT's start, and on the
      // VM often ran to the sixth on noise alone: the warm-up took half of every round (16 of 31 s) for nothing.
      hello: { path: PATHS.hello, warmup: 10_000, warmupMaxChunks: 2, requests: scale(12_000, 24_000), slices: scale(12, 24), abortEvery: 0 },
      file64k: { path: PATHS.file, warmup: 1_000, warmupMaxChunks: 3, requests: scale(800, 2_000), slices: scale(2, 4), abortEvery: 0 },
      abort10: { path: PATHS.body, warmup: 3_000, warmupMaxChunks: 3, requests: scale(2_000, 6_000), slices: scale(2, 4), abortEvery: 10 },
      h2core: { path: PATHS.hello, warmup: 5_000, warmupMaxChunks: scale(3, 4), requests: scale(5_000, 12_000), slices: scale(2, 4), abortEvery: 0, http2: 'core' },
      h2compat: { path: PATHS.hello, warmup: 5_000, warmupMaxChunks: scale(3, 4), requests: scale(5_000, 12_000), slices: scale(2, 4), abortEvery: 0, http2: 'compat' },
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
    exporterCost: { rounds: scale(7, 21), warmup: 100_000, requests: scale(300_000, 1_000_000) },
    bootstrapResamples: 2_000,
    seed: 20_240_611,
  };
}

/**
 * `--smoke`: the quick run shrunk until it takes a minute or two even on a
 * busy machine. It checks that every section runs end to end and renders;
 * its numbers mean nothing.
 */
export function smokeConfig(base: BenchConfig): BenchConfig {
  const scenarios = Object.fromEntries(
    Object.entries(base.scenarios).map(([name, sc]) => [name, { ...sc, warmup: Math.ceil(sc.warmup / 10), warmupMaxChunks: 1, requests: Math.ceil(sc.requests / 20), slices: 1 }]),
  ) as Record<ScenarioName, ScenarioConfig>;
  return {
    ...base,
    rounds: 2,
    helloRounds: { min: 2, max: 2, budgetMinutes: Number.POSITIVE_INFINITY },
    scenarios,
    otherNodes: [],
    memory: { ...base.memory, rounds: 1, connections: 500 },
    growth: { warmup: 500, requests: 2_000, checkpoints: 2 },
    importCost: { rounds: 3 },
    exporterCost: { rounds: 2, warmup: 10_000, requests: 30_000 },
    bootstrapResamples: 200,
  };
}
