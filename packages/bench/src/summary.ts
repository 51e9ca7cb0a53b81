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
import { bootstrapMedianCI, median, pairDifferences, pairRatios, type Interval } from './stats.js';

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
  /** Per-round mode/bare, paired within the round. Absent for bare itself. */
  readonly ratio?: { readonly median: number; readonly min: number; readonly max: number; readonly ci: Interval };
  readonly diffUs?: { readonly median: number; readonly ci: Interval };
}

function paired(samples: readonly CpuSample[], scenario: ScenarioName, mode: ModeName, base: ModeName): { a: number[]; b: number[] } {
  const of = (m: ModeName) =>
    new Map(samples.filter((s) => s.scenario === scenario && s.mode === m).map((s) => [s.round, s.cpuUsPerRequest]));
  const a = of(mode);
  const b = of(base);
  const rounds = [...a.keys()].filter((r) => b.has(r)).sort((x, y) => x - y);
  return { a: rounds.map((r) => a.get(r)!), b: rounds.map((r) => b.get(r)!) };
}

/** Median and bootstrap CI of the per-round difference `mode − base` (µs per request). */
export function pairedDifference(samples: readonly CpuSample[], scenario: ScenarioName, mode: ModeName, base: ModeName, config: BenchConfig) {
  const { a, b } = paired(samples, scenario, mode, base);
  const diffs = pairDifferences(a, b);
  return { median: median(diffs), ci: bootstrapMedianCI(diffs, { resamples: config.bootstrapResamples, seed: config.seed }) };
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
        const { a, b } = paired(ofNode, scenario, mode, 'bare');
        const ratios = pairRatios(a, b);
        out.push({
          ...base,
          rounds: ratios.length,
          ratio: {
            median: median(ratios),
            min: Math.min(...ratios),
            max: Math.max(...ratios),
            ci: bootstrapMedianCI(ratios, { resamples: config.bootstrapResamples, seed: config.seed }),
          },
          diffUs: pairedDifference(ofNode, scenario, mode, 'bare', config),
        });
      }
    }
  }
  return out;
}

/** Half the width of a 95% interval. */
export const halfWidth = (ci: Interval): number => (ci.high - ci.low) / 2;

/**
 * Whether the run resolved the hello scenario's Δ µs to `config.resolutionUs`
 * (every mode's 95% half-width), on the main server node.
 */
export function judgeResolution(cpu: readonly CpuSummary[], config: BenchConfig): TargetResult {
  const hello = cpu.filter((s) => s.scenario === 'hello' && s.diffUs !== undefined);
  const widths = hello.map((s) => ({ mode: s.mode, half: halfWidth(s.diffUs!.ci) }));
  if (widths.length === 0) return { name: 'resolution: hello Δ µs', target: `≤ ±${config.resolutionUs.toFixed(2)} µs`, measured: 'hello not measured', met: false };
  const worst = widths.reduce((w, x) => (x.half > w.half ? x : w), { mode: 'bare' as ModeName, half: 0 });
  const met = worst.half <= config.resolutionUs;
  return {
    name: 'resolution: hello Δ µs (mode − bare), 95% half-width',
    target: `≤ ±${config.resolutionUs.toFixed(2)} µs for every mode`,
    measured: `widest ±${worst.half.toFixed(2)} µs (${worst.mode}); median ±${median(widths.map((w) => w.half)).toFixed(2)} µs`,
    met,
    ...(met ? {} : { note: config.full ? 'this run did not resolve it: a busy machine widens the interval, rerun when it is quiet' : 'the quick run is not meant to: use --full' }),
  };
}

/** HTTP/2: Lifeline's modes against the hand-written stream.on('close') floor, paired per round, for both APIs. */
export function judgeHttp2(samples: readonly CpuSample[], config: BenchConfig): TargetResult[] {
  const out: TargetResult[] = [];
  for (const scenario of ['h2core', 'h2compat'] as const) {
    if (!samples.some((s) => s.scenario === scenario && s.mode === 'lifeline-instrument')) continue;
    const d = pairedDifference(samples, scenario, 'lifeline-instrument', 'handwritten', config);
    const bound = config.resolutionUs;
    out.push({
      name: `CPU ${scenario}: lifeline-instrument − handwritten floor`,
      target: `≤ +${bound.toFixed(2)} µs per stream`,
      measured: `${signed(d.median)} µs (95% CI ${signed(d.ci.low)} to ${signed(d.ci.high)})`,
      met: d.median <= bound,
      ...(d.ci.low <= bound && d.ci.high > bound ? { note: 'the CI straddles the bound: not conclusive at this many rounds' } : {}),
    });
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

export function judgeTargets(
  cpu: readonly CpuSummary[],
  memory: readonly MemorySummary[],
  growth: GrowthResult,
  growthControl: GrowthResult,
  samples: readonly CpuSample[],
  config: BenchConfig,
): TargetResult[] {
  const ratioOf = (mode: ModeName) => cpu.find((s) => s.scenario === 'hello' && s.mode === mode)?.ratio;
  const lifeline = ratioOf('lifeline-instrument')!;
  const floor = ratioOf('handwritten')!;
  const onFinished = ratioOf('on-finished')!;
  const results: TargetResult[] = [];

  const floorHigh = floor.median > 1.03;
  const bound = floorHigh ? Math.max(1.05, floor.median + 0.02) : 1.05;
  const ratioMet = lifeline.median <= bound;
  const spans = lifeline.ci.low <= bound && lifeline.ci.high > bound;
  results.push({
    name: 'CPU hello: lifeline-instrument / bare',
    target: floorHigh ? `≤ 1.05, or ≤ floor + 0.02 = ${fmt(floor.median + 0.02)} (floor ${fmt(floor.median)} > 1.03)` : `≤ 1.05 (handwritten floor ${fmt(floor.median)})`,
    measured: `${fmt(lifeline.median)} (95% CI ${fmt(lifeline.ci.low)}–${fmt(lifeline.ci.high)})`,
    met: ratioMet,
    ...(spans ? { note: 'the CI straddles the bound: not conclusive at this many rounds' } : {}),
  });

  const vsOnFinished = pairedDifference(samples, 'hello', 'lifeline-instrument', 'on-finished', config);
  results.push({
    name: 'CPU hello: lifeline-instrument below on-finished',
    target: `ratio < on-finished's ${fmt(onFinished.median)}`,
    measured: `${fmt(lifeline.median)}; paired lifeline − on-finished ${signed(vsOnFinished.median)} µs (95% CI ${signed(vsOnFinished.ci.low)} to ${signed(vsOnFinished.ci.high)})`,
    met: lifeline.median < onFinished.median,
    ...(vsOnFinished.ci.low <= 0 && vsOnFinished.ci.high >= 0 ? { note: 'the paired CI contains 0: no significant difference' } : {}),
  });

  const dropIn = ratioOf('onfinished-dropin');
  if (dropIn !== undefined) {
    const vsStock = pairedDifference(samples, 'hello', 'onfinished-dropin', 'on-finished', config);
    results.push({
      name: 'CPU hello: @lifeline/on-finished no costlier than on-finished',
      target: `ratio ≤ on-finished's ${fmt(onFinished.median)}`,
      measured: `${fmt(dropIn.median)}; paired drop-in − on-finished ${signed(vsStock.median)} µs (95% CI ${signed(vsStock.ci.low)} to ${signed(vsStock.ci.high)})`,
      met: dropIn.median <= onFinished.median,
      ...(vsStock.ci.low <= 0 && vsStock.ci.high >= 0 ? { note: 'the paired CI contains 0: no significant difference' } : {}),
    });
  }

  for (const mode of ['lifeline-otel', 'lifeline-prometheus'] as const) {
    if (ratioOf(mode) === undefined) continue;
    const extra = pairedDifference(samples, 'hello', mode, 'lifeline-instrument', config);
    const { a, b } = paired(samples, 'hello', mode, 'lifeline-instrument');
    const ratios = pairRatios(a, b);
    const ratioCi = bootstrapMedianCI(ratios, { resamples: config.bootstrapResamples, seed: config.seed });
    results.push({
      name: `CPU hello: ${mode} over lifeline-instrument`,
      target: '≤ +1.00 µs per request',
      measured: `${signed(extra.median)} µs (95% CI ${signed(extra.ci.low)} to ${signed(extra.ci.high)}); paired ratio ${fmt(median(ratios))} (95% CI ${fmt(ratioCi.low)}–${fmt(ratioCi.high)})`,
      met: extra.median <= 1,
      ...(extra.ci.low <= 1 && extra.ci.high > 1 ? { note: 'the CI straddles the bound: not conclusive at this many rounds' } : {}),
    });
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
