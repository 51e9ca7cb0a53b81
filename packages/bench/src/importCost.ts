/**
 * The import cost section: what `import '@lifeline/node-adapter'` adds to a
 * cold start (a serverless function, a CLI), against `node:http` alone. Each
 * sample is a fresh `node` process that times one dynamic `import()` of a
 * module by its bare name, which for Lifeline resolves to the built dist, the
 * files users install; rounds interleave the modules in a
 * shuffled order so that drift in the machine's load hits them all alike, and
 * every difference is paired within its round.
 *
 * `pnpm --filter @lifeline/bench bench:import` runs this section alone (importCostMain.ts).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../../scripts/ensureBuilt.mjs';
import type { BenchConfig } from './config.js';
import { ownNode, type NodeBinary } from './nodes.js';
import { bootstrapMedianCI, median, mulberry32, pairDifferences, shuffled, type Interval } from './stats.js';

export const IMPORT_TARGETS = ['node:http', '@lifeline/core', '@lifeline/node-adapter', 'on-finished'] as const;
export type ImportTarget = (typeof IMPORT_TARGETS)[number];

/** The adapter may add at most this many ms to a cold start, next to `node:http` alone. */
export const IMPORT_BUDGET_MS = 15;

export interface ImportSample {
  readonly round: number;
  readonly target: ImportTarget;
  /** Wall-clock ms of the `await import()`, in the child. */
  readonly wallMs: number;
  /** CPU ms (user + system) the child spent in it: less sensitive to other processes than wall time. */
  readonly cpuMs: number;
}

export interface ImportSummary {
  readonly target: ImportTarget;
  readonly samples: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly medianCpu: number;
  /** Per-round `target − node:http` wall ms. Absent for node:http itself. */
  readonly diff?: { readonly median: number; readonly ci: Interval };
  /** The same in CPU ms: context for a loaded machine, where wall time also measures the wait for a core. */
  readonly diffCpu?: { readonly median: number; readonly ci: Interval };
}

export interface ImportCostResult {
  /** What was imported: the built dist files, and whether this run had to build them. */
  readonly measured: string;
  /** The node that ran the importing processes (the CPU section's server node). */
  readonly node: string;
  readonly rounds: number;
  readonly samples: readonly ImportSample[];
  readonly summary: readonly ImportSummary[];
}

/** Builds the dist when it is missing or older than its sources: measuring a stale build would measure the wrong code. */
async function buildIfStale(log: (line: string) => void): Promise<string> {
  log('import cost: checking that the built dist is up to date…');
  return (await ensureBuilt()) ? 'built dist (built by this run)' : 'built dist (up to date)';
}

// Children run here and import each module by its bare name, as users do: resolving a package through
// node_modules and its `exports` is part of what an import costs. Without the @lifeline/source
// condition, the workspace packages resolve to their built dist.
const CHILD_CWD = fileURLToPath(new URL('..', import.meta.url));

/** One fresh process, one import. `performance` is touched before the clock starts: its first use loads perf_hooks. */
function sampleOnce(specifier: string, node: string): Promise<{ wallMs: number; cpuMs: number }> {
  const code =
    `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(specifier)});` +
    `const wallMs = performance.now() - t; const u = process.cpuUsage(c);` +
    `process.stdout.write(JSON.stringify({ wallMs, cpuMs: (u.user + u.system) / 1000 }));`;
  // No NODE_OPTIONS: a --conditions=@lifeline/source there would import the TypeScript source instead of the dist.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return new Promise((resolve, reject) => {
    execFile(node, ['--input-type=module', '-e', code], { cwd: CHILD_CWD, env, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`importing ${specifier} failed: ${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

/**
 * Each round imports every target once, in a new order, each in a fresh process of `node` (the parent's own by
 * default; the bench passes the node its servers run on: what a module costs to load depends on the runtime).
 */
export async function measureImportCost(
  config: BenchConfig,
  log: (line: string) => void,
  node: NodeBinary = ownNode(),
): Promise<ImportCostResult> {
  const measured = await buildIfStale(log);
  const rounds = config.importCost.rounds;
  const random = mulberry32(config.seed);
  const samples: ImportSample[] = [];
  log(`import cost: ${rounds} rounds × ${IMPORT_TARGETS.length} modules, a fresh node ${node.version} process each…`);
  for (let round = 0; round < rounds; round++) {
    for (const target of shuffled(IMPORT_TARGETS, random)) {
      samples.push({ round, target, ...(await sampleOnce(target, node.path)) });
    }
  }
  return { measured, node: node.version, rounds, samples, summary: summarizeImportCost(samples, config) };
}

export function summarizeImportCost(samples: readonly ImportSample[], config: Pick<BenchConfig, 'bootstrapResamples' | 'seed'>): ImportSummary[] {
  const byRound = (target: ImportTarget, key: 'wallMs' | 'cpuMs') => new Map(samples.filter((s) => s.target === target).map((s) => [s.round, s[key]]));
  const paired = (target: ImportTarget, key: 'wallMs' | 'cpuMs') => {
    const mine = byRound(target, key);
    const base = byRound('node:http', key);
    const rounds = [...mine.keys()].filter((r) => base.has(r)).sort((a, b) => a - b);
    const diffs = pairDifferences(
      rounds.map((r) => mine.get(r)!),
      rounds.map((r) => base.get(r)!),
    );
    return { median: median(diffs), ci: bootstrapMedianCI(diffs, { resamples: config.bootstrapResamples, seed: config.seed }) };
  };
  return IMPORT_TARGETS.map((target) => {
    const own = samples.filter((s) => s.target === target);
    const wall = own.map((s) => s.wallMs);
    const summary = {
      target,
      samples: own.length,
      median: median(wall),
      min: Math.min(...wall),
      max: Math.max(...wall),
      medianCpu: median(own.map((s) => s.cpuMs)),
    };
    if (target === 'node:http') return summary;
    return { ...summary, diff: paired(target, 'wallMs'), diffCpu: paired(target, 'cpuMs') };
  });
}
