/**
 * What each metrics exporter adds to one request, in process, without
 * sockets: a loop does per request what the adapter does (open the connection
 * on a registry, publish `lifeline:connection:open` if anyone listens,
 * dispatch `FINISH`, publish `lifeline:connection:release`) with an exporter
 * attached or none. The difference is everything the exporter costs a request:
 * the channel messages it makes the adapter publish, the registry's release
 * record it asks for, and its own handlers. Each sample is a fresh child
 * process running one mode (as a server runs one exporter for its lifetime,
 * so the JIT sees only that one), timed in CPU time (`process.cpuUsage`, GC
 * threads included) after a warm-up. Rounds run every mode once, in a
 * shuffled order, and each mode is compared with `none` of the same round, so
 * a machine busy with other work moves both sides of a pair.
 */
import { execFile } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { createRegistry, type ConnectionEvent, type Registry } from '@lifeline/core';
import { createHttpServerMetricProducer, recordHttpServerMetrics } from '@lifeline/node-adapter/otel';
import { collectPrometheusMetrics } from '@lifeline/node-adapter/prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { IdleReader } from './idleReader.js';
import { Registry as PromRegistry } from 'prom-client';
import { bootstrapMedianCI, median, mulberry32, pairDifferences, pairRatios, shuffled, type Interval } from './stats.js';

export const EXPORTER_MODES = ['none', 'otel-meter', 'otel-producer', 'prometheus'] as const;
export type ExporterMode = (typeof EXPORTER_MODES)[number];

export const EXPORTER_MODE_DESCRIPTIONS: Record<ExporterMode, string> = {
  none: 'registry + channels, no exporter (the baseline)',
  'otel-meter': 'recordHttpServerMetrics(meter) on an SDK MeterProvider: one histogram.record per request',
  'otel-producer': 'createHttpServerMetricProducer() given to an SDK MetricReader: aggregated in place',
  prometheus: 'collectPrometheusMetrics(registry) on a prom-client Registry: aggregated in place',
};

/** Rounds; requests run untimed first in each child (so the timed ones run optimized code), then timed ones. */
export interface ExporterCostConfig {
  readonly rounds: number;
  readonly warmup: number;
  readonly requests: number;
}

export interface ExporterCostRow {
  readonly mode: ExporterMode;
  readonly nsPerRequest: number;
  /** Paired with `none` of the same round; absent for `none`. */
  readonly diffNs?: { readonly median: number; readonly ci: Interval };
  readonly ratio?: { readonly median: number; readonly ci: Interval };
}

export interface ExporterCostResult {
  readonly config: ExporterCostConfig;
  readonly node: string;
  readonly rows: readonly ExporterCostRow[];
  /** ns per request, by mode, one entry per round. */
  readonly samples: Record<ExporterMode, number[]>;
}

const FINISH: ConnectionEvent = Object.freeze({ type: 'FINISH' });
const openChannel = diagnosticsChannel.channel('lifeline:connection:open');
const releaseChannel = diagnosticsChannel.channel('lifeline:connection:release');

/** What an HTTP/1 release hands a subscriber as its target: the fields the exporters read of a `ServerResponse`. */
function fakeResponse() {
  return { req: { method: 'GET', url: '/', httpVersion: '1.1', socket: { encrypted: false } }, headersSent: true, statusCode: 200 };
}

/** Attaches a mode's exporter to a fresh registry; returns the registry and the function that detaches it. */
function attach(mode: ExporterMode): { registry: Registry; detach: () => void } {
  const registry = createRegistry({ journalSize: 0 });
  switch (mode) {
    case 'none':
      return { registry, detach: () => {} };
    case 'otel-meter': {
      const provider = new MeterProvider({ readers: [new IdleReader()] });
      const recorder = recordHttpServerMetrics(provider.getMeter('bench'), { registry });
      return { registry, detach: () => recorder.stop() };
    }
    case 'otel-producer': {
      const producer = createHttpServerMetricProducer({ registry });
      new MeterProvider({ readers: [new IdleReader({ metricProducers: [producer] })] });
      return { registry, detach: () => producer.stop() };
    }
    case 'prometheus': {
      const collector = collectPrometheusMetrics(registry, { register: new PromRegistry() });
      return { registry, detach: () => collector.stop() };
    }
  }
}

/** `n` requests through the adapter's path. */
function requests(registry: Registry, n: number, targets: readonly object[]): void {
    for (let i = 0; i < n; i++) {
      const target = targets[i % targets.length]!;
      const id = registry.open({ transport: 'http1' });
      if (openChannel.hasSubscribers) openChannel.publish({ id, transport: 'http1', registry, target });
      registry.dispatch(id, FINISH);
      if (releaseChannel.hasSubscribers) {
        releaseChannel.publish({ id, transport: 'http1', registry, target, outcome: 'finished', event: FINISH });
      }
    }
}

/**
 * One sample, in this process (the child's side): attaches `mode`, runs
 * `warmup` requests, then `n` timed ones; CPU ns per request.
 */
export function sampleInProcess(mode: ExporterMode, warmup: number, n: number): number {
  // Nothing else may listen: a stray subscriber would make `none` publish too.
  if (openChannel.hasSubscribers || releaseChannel.hasSubscribers) throw new Error('the lifeline:connection:* channels have other subscribers');
  const targets = Array.from({ length: 1_024 }, fakeResponse);
  const { registry, detach } = attach(mode);
  requests(registry, warmup, targets);
  const before = process.cpuUsage();
  requests(registry, n, targets);
  const used = process.cpuUsage(before);
  if (registry.size !== 0) throw new Error(`${mode}: ${registry.size} connections left open`);
  detach();
  return ((used.user + used.system) * 1000) / n;
}

const CHILD = fileURLToPath(new URL('./exporterCostChild.ts', import.meta.url));

/** One sample in a fresh child process. */
function sample(mode: ExporterMode, warmup: number, n: number): Promise<number> {
  const args = ['--conditions=@lifeline/source', '--import', 'tsx', CHILD, mode, String(warmup), String(n)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`exporter cost child (${mode}) failed: ${error.message}\n${stderr}`));
      else resolve(Number(stdout.trim()));
    });
  });
}

export async function measureExporterCost(
  config: ExporterCostConfig,
  stats: { readonly bootstrapResamples: number; readonly seed: number },
  log: (line: string) => void,
): Promise<ExporterCostResult> {
  const random = mulberry32(stats.seed);
  const samples = Object.fromEntries(EXPORTER_MODES.map((m) => [m, [] as number[]])) as Record<ExporterMode, number[]>;
  for (let round = 0; round < config.rounds; round++) {
    for (const mode of shuffled(EXPORTER_MODES, random)) samples[mode].push(await sample(mode, config.warmup, config.requests));
    log(`exporter cost round ${round + 1}/${config.rounds}: ${EXPORTER_MODES.map((m) => `${m} ${samples[m].at(-1)!.toFixed(0)} ns`).join(', ')}`);
  }
  const options = { resamples: stats.bootstrapResamples, seed: stats.seed };
  const rows = EXPORTER_MODES.map((mode): ExporterCostRow => {
    const nsPerRequest = median(samples[mode]);
    if (mode === 'none') return { mode, nsPerRequest };
    const diffs = pairDifferences(samples[mode], samples.none);
    const ratios = pairRatios(samples[mode], samples.none);
    return {
      mode,
      nsPerRequest,
      diffNs: { median: median(diffs), ci: bootstrapMedianCI(diffs, options) },
      ratio: { median: median(ratios), ci: bootstrapMedianCI(ratios, options) },
    };
  });
  return { config, node: process.version, rows, samples };
}
