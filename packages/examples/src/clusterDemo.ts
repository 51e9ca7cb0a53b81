/**
 * `pnpm example:cluster [--workers N]`: the deployment the original leak was
 * found in, done right. A primary and N workers (node:cluster), each serving
 * the framework's file route with Lifeline; the primary exports every
 * worker's metrics on `/metrics` through prom-client's `AggregatorRegistry`;
 * `SIGUSR2` (what the monit rule sent) restarts the workers one at a time,
 * each old one draining before it exits. A load with 10% mid-body aborts runs
 * through the whole rolling restart, and the numbers say whether a request
 * was lost to the restart and whether a worker left anything in its registry.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runIfEntryPoint } from './entryPoint.js';
import { withTempDir } from './tempDir.js';
import { startClusterLoad, type ClusterLoadReport } from './cluster/clusterLoad.js';
import { startCluster } from './cluster/clusterPrimary.js';
import type { WorkerExitReport } from './cluster/clusterMessages.js';

/** Options of {@link runClusterDemo}. */
export interface ClusterDemoOptions {
  /** Default 2. */
  readonly workers?: number;
  /** Size of the served file. Default 1 MiB. */
  readonly fileBytes?: number;
  /** Requests in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Requests completed before the restart and again after it. Default 200. */
  readonly requestsAround?: number;
  /** Each retiring worker's drain deadline, ms. Default 10,000. */
  readonly drainDeadline?: number;
  /** Called with progress lines; default silent. */
  readonly log?: (line: string) => void;
}

/** What one run measured. */
export interface ClusterDemoResult {
  readonly workers: number;
  readonly load: ClusterLoadReport;
  /** Requests that failed while a rolling restart was under way or after it: must be 0. */
  readonly failedBecauseOfRestart: number;
  /** Every worker's report at exit: the restarted ones, then the last generation at shutdown. */
  readonly exits: readonly WorkerExitReport[];
  /** Workers restarted by the SIGUSR2. */
  readonly restarted: number;
  /** The primary's `/metrics` after the restart: the live workers' series, summed by prom-client. */
  readonly metrics: string;
}

const untilCompleted = async (load: { snapshot(): ClusterLoadReport }, count: number) => {
  while (load.snapshot().completed < count) await new Promise((r) => setTimeout(r, 10));
};

/**
 * Runs the whole scenario once: start, load, warm up, `SIGUSR2` to this
 * process, let the restart finish under load, load some more, stop, shut down.
 *
 * @example
 * ```ts
 * const { load, failedBecauseOfRestart, exits } = await runClusterDemo({ workers: 2 });
 * ```
 */
export async function runClusterDemo(options: ClusterDemoOptions = {}): Promise<ClusterDemoResult> {
  const workers = options.workers ?? 2;
  const fileBytes = options.fileBytes ?? 1024 * 1024;
  const around = options.requestsAround ?? 200;
  const log = options.log ?? (() => {});
  return withTempDir('lifeline-cluster-', async (publicDir) => {
    await writeFile(join(publicDir, 'app.bin'), Buffer.alloc(fileBytes, 7));
    const running = await startCluster({ workers, publicDir, drainDeadline: options.drainDeadline ?? 10_000 });
    log(`primary ${process.pid}: ${workers} workers on 127.0.0.1:${running.port}, /metrics on 127.0.0.1:${running.metricsPort}`);
    let restart: Promise<void> | undefined;
    const onSignal = () => {
      log('SIGUSR2: rolling restart, one worker at a time');
      restart = running.rollingRestart();
    };
    process.on('SIGUSR2', onSignal);
    try {
      const load = startClusterLoad({ port: running.port, path: '/public/app.bin', expectedBytes: fileBytes, concurrency: options.concurrency ?? 8, abortEvery: 10 });
      await untilCompleted(load, around);
      const failedBefore = load.snapshot().failed;
      process.kill(process.pid, 'SIGUSR2');
      for (const start = Date.now(); restart === undefined; await new Promise((r) => setTimeout(r, 5))) {
        if (Date.now() - start > 5_000) throw new Error('SIGUSR2 was sent but its handler did not run within 5 s');
      }
      await restart;
      const restarted = running.exits().length;
      log(`rolling restart done: ${restarted} workers replaced`);
      await untilCompleted(load, load.snapshot().completed + around);
      const metrics = await fetchText(`http://127.0.0.1:${running.metricsPort}/metrics`);
      const report = await load.stop();
      await running.close();
      return { workers, load: report, failedBecauseOfRestart: report.failed - failedBefore, exits: running.exits(), restarted, metrics };
    } finally {
      process.off('SIGUSR2', onSignal);
    }
  });
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
}

/** The sample lines of the metrics a reader would look at first. */
export function headlineMetrics(text: string): string[] {
  return text.split('\n').filter((l) => /^lifeline_(connections_in_flight|connections_released_total|stale_connections_total)/.test(l));
}

async function main(): Promise<void> {
  // `pnpm example:cluster -- --workers 4` hands the script the `--` too.
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({ args, options: { workers: { type: 'string', default: '2' } } });
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a whole number >= 1, got ${values.workers}`);
  console.log(`node:cluster with Lifeline on Node ${process.version}: ${workers} workers, 1 MiB file, every 10th client leaves mid-body`);
  const result = await runClusterDemo({ workers, log: (line) => console.log(line) });
  console.log('\n/metrics on the primary after the restart (AggregatorRegistry over the live workers):');
  for (const line of headlineMetrics(result.metrics)) console.log(`  ${line}`);
  console.log('\nload, through the whole rolling restart:');
  console.table({
    'requests sent': result.load.sent,
    completed: result.load.completed,
    'aborted by the client': result.load.abortedByClient,
    'failed because of the restart': result.failedBecauseOfRestart,
  });
  if (result.load.failed > 0) console.log('failures:', result.load.failures);
  console.log('workers at exit:');
  console.table(result.exits.map((e) => ({ pid: e.pid, 'registry size': e.registrySize, opened: e.stats.opened, 'ended during drain': e.drained, 'forced at deadline': e.forced })));
  const clean = result.failedBecauseOfRestart === 0 && result.exits.every((e) => e.registrySize === 0);
  console.log(clean ? 'no request lost to the restart, no worker left a connection behind' : 'SOMETHING WAS LOST: see above');
  if (!clean) process.exitCode = 1;
}

runIfEntryPoint(import.meta.url, main);
