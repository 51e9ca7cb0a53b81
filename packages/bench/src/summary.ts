/**
 * Turns raw samples into the numbers the report prints, and judges each
 * target from those numbers alone. Everything mode-vs-bare is computed pair
 * by pair within a round (never median-vs-median), so the machine's drift
 * between rounds cancels out.
 */
import type { BenchConfig, ScenarioName } from './config.js';
import { SCENARIO_NAMES } from './config.js';
import type { CpuSample } from './cpuPerRequest.js';
import type { ExporterCostResult } from './exporterCost.js';
import { IMPORT_BUDGET_MS, type ImportCostResult } from './importCost.js';
import type { GrowthResult, InFlightSample } from './memory.js';
import { HOLD_STATES, type HoldState } from './protocol.js';
import type { ModeName } from './modes.js';
import { bootstrapCI, median, trimmedMean, type Interval } from './stats.js';

export interface CpuSummary {
  /** The node that ran the server. */
  readonly node: string;
  readonly scenario: ScenarioName;
  readonly mode: ModeName;
  readonly rounds: number;
  readonly medianUs: number;
  /** Medians over rounds: main-thread GC pauses per request, and the load child's own CPU per request. */
  readonly gcUs: number;
  readonly gcPer1k: number;
  readonly loadUs: number;
  /** Per-round mode/bare, paired within the round, over rounds (see {@link acrossRounds}). Absent for bare itself. */
  readonly ratio?: { readonly center: number; readonly min: number; readonly max: number; readonly ci: Interval };
  /** Per-round mode − bare, µs per request, over rounds (see {@link acrossRounds}). Absent for bare itself. */
  readonly diffUs?: Estimate;
}

/** A paired per-round quantity summed up over rounds: its centre and the centre's 95% bootstrap interval. */
export interface Estimate {
  readonly center: number;
  readonly ci: Interval;
}

/**
 * The share of rounds dropped at each end before averaging the per-round values: a 20% trimmed mean. A round's
 * value is already a median over its slices (robust to a burst inside the round); across rounds the spread is
 * mostly bell-shaped, where the median wastes about a third of the rounds (full run of 2026-11-28, 90 rounds,
 * recomputed: the hello Δs' median half-width 0.25 µs over rounds' medians, 0.20 µs over their 20% trimmed
 * means; the widest, onfinished-dropin's, about 0.32 either way), while the few rounds a noisy neighbour
 * spoiled are still dropped whole.
 */
export const ROUND_TRIM = 0.2;

/** The 20% trimmed mean of per-round values and its bootstrap interval (rounds resampled whole). */
export function acrossRounds(values: readonly number[], config: BenchConfig): Estimate {
  const statistic = (xs: readonly number[]) => trimmedMean(xs, ROUND_TRIM);
  return { center: statistic(values), ci: bootstrapCI(values, statistic, { resamples: config.bootstrapResamples, seed: config.seed }) };
}

/**
 * Per round (rounds in order), `combine(mode, base)` of the two children of that round: the median over
 * the round's slices of `combine` applied to the two windows of the same slice, which ran a few seconds
 * apart at most, so a slow stretch of the machine lands on both sides of a pair. Samples recorded without
 * windows (older results) are combined whole.
 */
function perRound(samples: readonly CpuSample[], scenario: ScenarioName, mode: ModeName, base: ModeName, combine: (a: number, b: number) => number): number[] {
  const of = (m: ModeName) => new Map(samples.filter((s) => s.scenario === scenario && s.mode === m).map((s) => [s.round, s]));
  const a = of(mode);
  const b = of(base);
  return [...a.keys()]
    .filter((r) => b.has(r))
    .sort((x, y) => x - y)
    .map((r) => {
      const x = a.get(r)!;
      const y = b.get(r)!;
      const xw = x.windowUsPerRequest;
      const yw = y.windowUsPerRequest;
      if (xw === undefined || yw === undefined || xw.length !== yw.length || xw.length === 0) return combine(x.cpuUsPerRequest, y.cpuUsPerRequest);
      return median(xw.map((w, i) => combine(w, yw[i]!)));
    });
}

/** Per round, `mode − base` in µs per request (see {@link perRound}). */
const roundDifferences = (samples: readonly CpuSample[], scenario: ScenarioName, mode: ModeName, base: ModeName): number[] =>
  perRound(samples, scenario, mode, base, (x, y) => x - y);

/** Per round, `mode / base` (see {@link perRound}). */
const roundRatios = (samples: readonly CpuSample[], scenario: ScenarioName, mode: ModeName, base: ModeName): number[] =>
  perRound(samples, scenario, mode, base, (x, y) => x / y);

/** The per-round difference `mode − base` (µs per request) over rounds: trimmed mean and its bootstrap CI. */
export function pairedDifference(samples: readonly CpuSample[], scenario: ScenarioName, mode: ModeName, base: ModeName, config: BenchConfig): Estimate {
  return acrossRounds(roundDifferences(samples, scenario, mode, base), config);
}

/** Per server node, scenario and mode (in the order measured): the paired statistics against bare. */
export function summarizeCpu(samples: readonly CpuSample[], config: BenchConfig): CpuSummary[] {
  const out: CpuSummary[] = [];
  for (const node of new Set(samples.map((s) => s.node))) {
    const ofNode = samples.filter((s) => s.node === node);
    for (const scenario of SCENARIO_NAMES) {
      for (const mode of new Set(ofNode.filter((s) => s.scenario === scenario).map((s) => s.mode))) {
        const own = ofNode.filter((s) => s.scenario === scenario && s.mode === mode);
        const of = (key: 'cpuUsPerRequest' | 'gcUsPerRequest' | 'gcPer1k' | 'loadCpuUsPerRequest') => median(own.map((s) => s[key]));
        const base = { node, scenario, mode, rounds: own.length, medianUs: of('cpuUsPerRequest'), gcUs: of('gcUsPerRequest'), gcPer1k: of('gcPer1k'), loadUs: of('loadCpuUsPerRequest') };
        if (mode === 'bare') {
          out.push(base);
          continue;
        }
        const ratios = roundRatios(ofNode, scenario, mode, 'bare');
        out.push({
          ...base,
          rounds: ratios.length,
          ratio: { ...acrossRounds(ratios, config), min: Math.min(...ratios), max: Math.max(...ratios) },
          diffUs: pairedDifference(ofNode, scenario, mode, 'bare', config),
        });
      }
    }
  }
  return out;
}

/** Half the width of a 95% interval. */
export const halfWidth = (ci: Interval): number => (ci.high - ci.low) / 2;

/** The 95% half-width of each hello Δ (mode − bare), for the modes measured against bare. */
const helloHalfWidths = (cpu: readonly CpuSummary[]): { mode: ModeName; half: number }[] =>
  cpu.filter((s) => s.scenario === 'hello' && s.diffUs !== undefined).map((s) => ({ mode: s.mode, half: halfWidth(s.diffUs!.ci) }));

/**
 * Whether the run resolved the hello scenario's Δ µs to `config.resolutionUs`
 * (every mode's 95% half-width), on the main server node.
 */
export function judgeResolution(cpu: readonly CpuSummary[], config: BenchConfig, helloRounds?: { readonly rounds: number; readonly stoppedBy: string }): TargetResult {
  const hello = cpu.filter((s) => s.scenario === 'hello' && s.diffUs !== undefined);
  const widths = helloHalfWidths(cpu);
  if (widths.length === 0) return { name: 'resolution: hello Δ µs', target: `≤ ±${config.resolutionUs.toFixed(2)} µs`, measured: 'hello not measured', met: false };
  const worst = widths.reduce((w, x) => (x.half > w.half ? x : w), { mode: 'bare' as ModeName, half: 0 });
  const met = worst.half <= config.resolutionUs;
  const roundsOf = (mode: ModeName) => hello.find((s) => s.mode === mode)?.rounds ?? 0;
  const counts = hello.map((s) => s.rounds);
  const [fewest, most] = [Math.min(...counts), Math.max(...counts)];
  // The interval narrows as 1/√rounds: the rounds the widest one's spread would need for the bound.
  const needed = Math.ceil(roundsOf(worst.mode) * (worst.half / config.resolutionUs) ** 2);
  const rounds = fewest === most ? `${most} rounds` : `${fewest} to ${most} rounds`;
  const control = hello.find((s) => s.mode === 'bare-control')?.diffUs;
  return {
    name: 'resolution: hello Δ µs (mode − bare), 95% half-width',
    target: `≤ ±${config.resolutionUs.toFixed(2)} µs for every mode`,
    measured:
      `widest ±${worst.half.toFixed(2)} µs (${worst.mode}); median ±${median(widths.map((w) => w.half)).toFixed(2)} µs over ${rounds}` +
      (control === undefined ? '' : `; A/A control (bare − bare, two processes) ${signed(control.center)} µs (95% CI ${signed(control.ci.low)} to ${signed(control.ci.high)})`),
    met,
    ...(met
      ? {}
      : {
          note:
            `this run did not resolve it: at this spread ±${config.resolutionUs.toFixed(2)} µs needs about ${needed} rounds` +
            (helloRounds === undefined ? '' : `; the run stopped at ${helloRounds.rounds} rounds: ${helloRounds.stoppedBy}`) +
            (config.full ? '' : ' (the quick run is not meant to: use --full)'),
        }),
  };
}


/**
 * The full run's stopping rule for the hello scenario, asked after each round: undefined (go on) before
 * `helloRounds.min` rounds and before the other scenarios' `rounds`; then a reason to stop once every hello Δ
 * (mode − bare) is resolved to `resolutionUs`, or once `minutesSpent` reaches `helloRounds.budgetMinutes`.
 * Stopping when the interval is narrow enough (never when a difference looks significant) keeps the intervals
 * honest: the rule looks at their widths, not at where they lie.
 */
export function helloStopReason(samples: readonly CpuSample[], config: BenchConfig, roundsDone: number, minutesSpent: number): string | undefined {
  const { min, budgetMinutes } = config.helloRounds;
  if (roundsDone < Math.max(min, config.rounds)) return undefined;
  const resolution = judgeResolution(summarizeCpu(samples.filter((s) => s.scenario === 'hello'), config), config);
  if (resolution.met) return `resolved (every hello Δ to ±${config.resolutionUs.toFixed(2)} µs)`;
  if (minutesSpent >= budgetMinutes) return `time budget of ${budgetMinutes} minutes spent (${minutesSpent.toFixed(0)} min)`;
  return undefined;
}

/** HTTP/2: Lifeline's modes against the hand-written stream.on('close') floor, paired per round, for both APIs. */
export function judgeHttp2(samples: readonly CpuSample[], config: BenchConfig): TargetResult[] {
  const out: TargetResult[] = [];
  for (const scenario of ['h2core', 'h2compat'] as const) {
    if (!samples.some((s) => s.scenario === scenario && s.mode === 'lifeline-instrument')) continue;
    const d = pairedDifference(samples, scenario, 'lifeline-instrument', 'handwritten', config);
    out.push(atMost(`CPU ${scenario}: lifeline-instrument − handwritten floor (per stream)`, d, config.resolutionUs));
  }
  return out;
}

export interface MemorySummary {
  readonly mode: ModeName;
  readonly state: HoldState;
  readonly connections: number;
  /** Heap growth per held request, the server's own objects included (socket, parser, req, res). */
  readonly totalBytesPerConnection: number;
  /** Median over rounds of (mode − bare) / connections. Absent for bare. */
  readonly trackingBytesPerConnection?: number;
}

/** Per hold state, then per mode (in the config's order). */
export function summarizeMemory(samples: readonly InFlightSample[], config: BenchConfig): MemorySummary[] {
  const delta = (s: InFlightSample) => s.heapAfter - s.heapBefore;
  return HOLD_STATES.flatMap((state) => {
    const inState = samples.filter((s) => s.state === state);
    const bare = new Map(inState.filter((s) => s.mode === 'bare').map((s) => [s.round, s]));
    return config.memory.modes.map((mode): MemorySummary => {
      const own = inState.filter((s) => s.mode === mode);
      const connections = own[0]?.connections ?? 0;
      const total = median(own.map((s) => delta(s) / s.connections));
      if (mode === 'bare') return { mode, state, connections, totalBytesPerConnection: total };
      const extra = own.filter((s) => bare.has(s.round)).map((s) => (delta(s) - delta(bare.get(s.round)!)) / s.connections);
      return { mode, state, connections, totalBytesPerConnection: total, trackingBytesPerConnection: median(extra) };
    });
  });
}

export interface TargetResult {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
  readonly note?: string;
}

const fmt = (x: number, digits = 3) => x.toFixed(digits);

/**
 * A paired difference against an upper bound (µs per request). Met only when the whole 95% interval
 * is on the right side of the bound (below it when `strict`); an interval across the bound is not
 * conclusive, and so not met, whatever the median says.
 */
export function atMost(
  name: string,
  d: Estimate,
  bound: number,
  options: { readonly strict?: boolean; readonly extra?: string } = {},
): TargetResult {
  const below = options.strict ? d.ci.high < bound : d.ci.high <= bound;
  const above = options.strict ? d.ci.low >= bound : d.ci.low > bound;
  return {
    name,
    target: `${options.strict ? '<' : '≤'} ${signed(bound)} µs per request (the whole 95% CI)`,
    measured: `${signed(d.center)} µs (95% CI ${signed(d.ci.low)} to ${signed(d.ci.high)})${options.extra ?? ''}`,
    met: below,
    ...(below || above ? {} : { note: 'not conclusive: the CI straddles the bound' }),
  };
}

export function judgeTargets(
  cpu: readonly CpuSummary[],
  memory: readonly MemorySummary[],
  growth: GrowthResult,
  growthControl: GrowthResult,
  samples: readonly CpuSample[],
  config: BenchConfig,
): TargetResult[] {
  const ratioOf = (mode: ModeName) => cpu.find((s) => s.scenario === 'hello' && s.mode === mode)?.ratio;
  const results: TargetResult[] = [];
  const difference = (mode: ModeName, base: ModeName) => pairedDifference(samples, 'hello', mode, base, config);

  results.push(
    atMost('CPU hello: lifeline-instrument − handwritten floor', difference('lifeline-instrument', 'handwritten'), config.resolutionUs),
    atMost('CPU hello: lifeline-instrument − on-finished (below it)', difference('lifeline-instrument', 'on-finished'), 0, { strict: true }),
    atMost('CPU hello: lifeline-track − handwritten floor', difference('lifeline-track', 'handwritten'), 0.25),
  );
  if (ratioOf('onfinished-dropin') !== undefined) {
    results.push(atMost('CPU hello: @lifeline/on-finished − on-finished', difference('onfinished-dropin', 'on-finished'), 0));
  }
  for (const mode of ['lifeline-otel', 'lifeline-prometheus'] as const) {
    if (ratioOf(mode) === undefined) continue;
    const ratio = acrossRounds(roundRatios(samples, 'hello', mode, 'lifeline-instrument'), config);
    results.push(
      atMost(`CPU hello: ${mode} over lifeline-instrument`, difference(mode, 'lifeline-instrument'), 1, {
        extra: `; paired ratio ${fmt(ratio.center)} (95% CI ${fmt(ratio.ci.low)}–${fmt(ratio.ci.high)})`,
      }),
    );
  }

  const bytes = (mode: ModeName, state: HoldState) =>
    memory.find((m) => m.mode === mode && m.state === state)?.trackingBytesPerConnection ?? Number.NaN;
  for (const [mode, label, budget] of [
    ['lifeline-instrument', 'journal off', 512],
    ['lifeline-instrument-journal8', 'journal 8', 768],
  ] as const) {
    for (const state of HOLD_STATES) {
      const measured = bytes(mode, state);
      results.push({ name: `heap per in-flight connection, ${label}, ${state}`, target: `≤ ${budget} B`, measured: `${measured.toFixed(0)} B`, met: measured <= budget });
    }
  }
  const stockBytes = bytes('on-finished', 'unanswered');
  const dropInBytes = bytes('onfinished-dropin', 'unanswered');
  if (!Number.isNaN(dropInBytes)) {
    results.push({
      name: 'heap per in-flight response: @lifeline/on-finished vs on-finished',
      target: `≤ half of on-finished's ${stockBytes.toFixed(0)} B`,
      measured: `${dropInBytes.toFixed(0)} B`,
      met: dropInBytes <= stockBytes / 2,
    });
  }
  results.push({
    name: `no heap growth over ${growth.requests.toLocaleString('en-US')} requests (${growth.abortedPerCent}% aborted)`,
    target: '|end − start| ≤ 1 MiB',
    measured: `${signed(growth.growthBytes / 1024, 1)} KiB (bare control under the same load: ${signed(growthControl.growthBytes / 1024, 1)} KiB)`,
    met: Math.abs(growth.growthBytes) <= 1024 * 1024,
  });
  return results;
}

/** Met only when the whole 95% interval of the paired difference is within the budget. */
export function judgeImportCost(importCost: ImportCostResult): TargetResult {
  const adapter = importCost.summary.find((s) => s.target === '@lifeline/node-adapter')!;
  const http = importCost.summary.find((s) => s.target === 'node:http')!;
  const diff = adapter.diff!;
  const met = diff.ci.high <= IMPORT_BUDGET_MS;
  return {
    name: 'import cost: @lifeline/node-adapter − node:http',
    target: `≤ ${IMPORT_BUDGET_MS} ms (upper bound of the 95% CI)`,
    measured: `${signed(diff.median, 1)} ms (95% CI ${signed(diff.ci.low, 1)} to ${signed(diff.ci.high, 1)}); medians ${adapter.median.toFixed(1)} vs ${http.median.toFixed(1)} ms`,
    met,
    ...(!met && diff.median <= IMPORT_BUDGET_MS ? { note: 'the median is within budget, the interval is not: a loaded machine widens it' } : {}),
  };
}

/** The in-process cost of each aggregating exporter against the same +1 µs budget as the hello targets. */
export function judgeExporterCost(result: ExporterCostResult): TargetResult[] {
  return result.rows
    .filter((row) => row.mode === 'otel-producer' || row.mode === 'prometheus')
    .map((row) => {
      const diff = row.diffNs!;
      return {
        name: `in process: ${row.mode} over none`,
        target: '≤ +1000 ns per request',
        measured: `${signed(diff.median, 0)} ns (95% CI ${signed(diff.ci.low, 0)} to ${signed(diff.ci.high, 0)}); ratio ${row.ratio!.median.toFixed(2)}`,
        met: diff.median <= 1000,
        ...(diff.ci.low <= 1000 && diff.ci.high > 1000 ? { note: 'the CI straddles the bound: not conclusive at this many rounds' } : {}),
      };
    });
}

export function signed(x: number, digits = 2): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}
