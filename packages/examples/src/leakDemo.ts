import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegistryStats } from '@lifeline/core';
import { runIfEntryPoint } from './entryPoint.js';
import { renderInFlightChart } from './inFlightChart.js';
import { sampleInFlight, type InFlightSample } from './inFlightSampler.js';
import { startLifelineServer } from './lifelineServer.js';
import { startLoad, type LoadReport } from './loadGenerator.js';
import { startNaiveServer } from './naiveServer.js';
import type { ResponseEndings } from './responseEndings.js';
import { withTempDir } from './tempDir.js';

/** Options of {@link runLeakDemo}. */
export interface LeakDemoOptions {
  /** Requests sent to each server. Default 2,000. */
  requests?: number;
  /** Requests in flight at once, per server. Default 20. */
  concurrency?: number;
  /** Share of clients that disconnect mid-transfer. Default 0.1. */
  abortShare?: number;
  /**
   * Size of the served file. Default 1 MiB: far more than the loopback socket
   * buffers take in before the client reads, so an abort after the first
   * 64 KiB lands before `finish` (each run checks this: `endings.closedWithoutFinish`).
   */
  fileBytes?: number;
  /** Body bytes an aborting client reads before it leaves. Default 64 KiB. */
  abortAfterBytes?: number;
  /** Sampling period of the in-flight counts. Default 20 ms. */
  sampleEveryMs?: number;
  /** Time budget of each load. Default 45,000 ms. */
  timeBudgetMs?: number;
  /** Called with each sample while the load runs, with how many requests have ended per server. */
  onSample?: (sample: InFlightSample<ServerName>, settled: Readonly<Record<ServerName, number>>) => void;
}

/** The two servers of the demo. */
export type ServerName = 'naive' | 'lifeline';

/** What the naive server ended up with. */
export interface NaiveOutcome {
  /** Entries still in its map once every socket had closed: the leak. */
  readonly leftover: number;
  /** File streams `pipe()` left open. */
  readonly openFileStreams: number;
  readonly endings: ResponseEndings;
  readonly load: LoadReport;
}

/** What the Lifeline server ended up with. */
export interface LifelineOutcome {
  /** `registry.size` once every socket had closed. */
  readonly registrySize: number;
  readonly stats: RegistryStats;
  readonly endings: ResponseEndings;
  readonly load: LoadReport;
}

/** Everything a run measured. */
export interface LeakDemoResult {
  readonly options: Required<Pick<LeakDemoOptions, 'requests' | 'concurrency' | 'abortShare' | 'fileBytes'>>;
  readonly naive: NaiveOutcome;
  readonly lifeline: LifelineOutcome;
  /** In-flight counts over time, the last one taken after every socket had closed. */
  readonly samples: readonly InFlightSample<ServerName>[];
  readonly durationMs: number;
}

/**
 * Runs the naive server and the Lifeline server side by side in this
 * process, drives both with the same load (the same requests abort, at the
 * same point), samples both in-flight counts over time, and waits until every
 * socket has closed before taking the final numbers: only then is an entry
 * still held a leak rather than a transfer in progress. Every number in the
 * result is measured, none assumed.
 */
export async function runLeakDemo(options: LeakDemoOptions = {}): Promise<LeakDemoResult> {
  const requests = options.requests ?? 2_000;
  const concurrency = options.concurrency ?? 20;
  const abortShare = options.abortShare ?? 0.1;
  const fileBytes = options.fileBytes ?? 1024 * 1024;
  const startedAt = performance.now();

  return withTempDir('lifeline-leak-demo-', async (dir) => {
    const filePath = join(dir, 'download.bin');
    await writeFile(filePath, randomBytes(fileBytes));
    const naive = await startNaiveServer(filePath);
    const lifeline = await startLifelineServer(filePath);
    try {
      const sampler = sampleInFlight<ServerName>({ naive: naive.inFlight, lifeline: lifeline.inFlight }, options.sampleEveryMs ?? 20);
      const loadOptions = {
        requests,
        concurrency,
        abortShare,
        abortAfterBytes: options.abortAfterBytes,
        timeBudgetMs: options.timeBudgetMs ?? 45_000,
      };
      const naiveLoad = startLoad({ ...loadOptions, port: naive.port });
      const lifelineLoad = startLoad({ ...loadOptions, port: lifeline.port });
      const onSample = options.onSample;
      const reporter =
        onSample === undefined
          ? undefined
          : setInterval(() => onSample(sampler.sampleNow(), { naive: naiveLoad.settled(), lifeline: lifelineLoad.settled() }), 500);
      reporter?.unref();
      const [naiveReport, lifelineReport] = await Promise.all([naiveLoad.done, lifelineLoad.done]);
      clearInterval(reporter);

      await Promise.all([naive.close(), lifeline.close()]);
      const last = sampler.sampleNow();
      const samples = sampler.stop();
      return {
        options: { requests, concurrency, abortShare, fileBytes },
        naive: { leftover: last.counts.naive, openFileStreams: naive.openFileStreams(), endings: naive.endings(), load: naiveReport },
        lifeline: { registrySize: last.counts.lifeline, stats: lifeline.stats(), endings: lifeline.endings(), load: lifelineReport },
        samples,
        durationMs: performance.now() - startedAt,
      };
    } finally {
      // Idempotent after a normal run; after a failure, it keeps the servers from holding the process open.
      await Promise.all([naive.close(), lifeline.close()]);
    }
  });
}

/** The one-line conclusion of a run, built from its measurements only. */
export function formatVerdict(result: LeakDemoResult): string {
  const { naive, lifeline } = result;
  const { finished, closed, errored } = lifeline.stats.released;
  const lifelinePart =
    lifeline.registrySize === 0
      ? `Lifeline registry returned to 0`
      : `Lifeline registry still holds ${lifeline.registrySize} entries`;
  return (
    `verdict: naive server leaked ${naive.leftover} of ${naive.endings.received} entries; ` +
    `${lifelinePart} (finished ${finished}, closed ${closed}, errored ${errored})`
  );
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

function describeLoad(name: string, load: LoadReport, endings: ResponseEndings): string {
  const budget = load.cutAtBudget + load.unsent > 0 ? `, ${load.cutAtBudget} cut and ${load.unsent} unsent at the time budget` : '';
  return (
    `  ${name.padEnd(9)} clients: ${load.completed} complete, ${load.aborted} left mid-transfer, ${load.failed} failed${budget}; ` +
    `server saw ${endings.finished} finish, ${endings.closedWithoutFinish} close without finish`
  );
}

async function main(): Promise<void> {
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const requests = 2_000;
  const concurrency = 20;
  const abortShare = 0.1;
  console.log(
    `Lifeline leak demo: ${requests} requests to each server, ${concurrency} at a time, ` +
      `${abortShare * 100}% of clients disconnect mid-transfer (127.0.0.1 only)\n`,
  );
  console.log(`${pad('time', 7)}  ${pad('requests done', 22)}   ${pad('in-flight entries', 24)}`);
  console.log(`${pad('', 7)}  ${pad('naive', 10)} ${pad('lifeline', 11)}   ${pad('naive', 10)} ${pad('lifeline', 13)}`);
  const row = (atMs: number, done: Record<ServerName, number> | undefined, counts: Record<ServerName, number>) =>
    console.log(
      `${pad(`${(atMs / 1000).toFixed(1)}s`, 7)}  ${pad(done?.naive ?? '', 10)} ${pad(done?.lifeline ?? '', 11)}   ` +
        `${pad(counts.naive, 10)} ${pad(counts.lifeline, 13)}`,
    );

  const result = await runLeakDemo({ requests, concurrency, abortShare, onSample: (s, done) => row(s.atMs, done, s.counts) });
  const last = result.samples.at(-1)!;
  row(last.atMs, { naive: result.naive.load.sent, lifeline: result.lifeline.load.sent }, last.counts);
  console.log(`${pad('', 7)}  (all sockets closed)\n`);

  console.log(describeLoad('naive', result.naive.load, result.naive.endings));
  console.log(describeLoad('Lifeline', result.lifeline.load, result.lifeline.endings));
  console.log(`  the naive server's pipe() also left ${result.naive.openFileStreams} file descriptors open\n`);

  const fileMiB = (result.options.fileBytes / 1024 / 1024).toFixed(1);
  const svg = renderInFlightChart<ServerName>({
    title: 'In-flight bookkeeping entries: naive finish-only map vs Lifeline registry',
    subtitle:
      `${requests} requests per server, ${concurrency} at a time, ${abortShare * 100}% of clients leave mid-transfer ` +
      `(${fileMiB} MiB file); last point: all sockets closed`,
    samples: result.samples,
    series: [
      { key: 'naive', label: 'naive server', color: '#c0392b' },
      { key: 'lifeline', label: 'Lifeline', color: '#1e8449' },
    ],
  });
  const chartPath = join(repoRoot, 'demo-output', 'leak-demo.svg');
  await mkdir(join(repoRoot, 'demo-output'), { recursive: true });
  await writeFile(chartPath, svg);
  console.log(`chart: ${chartPath}`);
  console.log(`took ${(result.durationMs / 1000).toFixed(1)}s`);
  if (result.naive.endings.closedWithoutFinish === 0) {
    console.log('warning: no abort landed before finish in this run, so there was nothing to leak; try a bigger file');
  }
  console.log(formatVerdict(result));
  if (result.lifeline.registrySize !== 0) process.exitCode = 1;
}

runIfEntryPoint(import.meta.url, main);
