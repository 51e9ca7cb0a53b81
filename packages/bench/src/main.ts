/**
 * `pnpm bench` (quick, < 5 min) and `pnpm bench --full` (precise, < 20 min):
 * server CPU per request, heap per in-flight connection, heap growth under a
 * long abort-heavy load, the core event path, and the import cost of the
 * built packages (cold start). Prints a table with the
 * targets and writes bench-results/results.{json,md} at the repo root.
 * Progress goes to stderr so stdout holds only the report.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig } from './config.js';
import { measureCore } from './coreEvents.js';
import { measureCpu } from './cpuPerRequest.js';
import { measureExporterCost } from './exporterCost.js';
import { measureImportCost } from './importCost.js';
import { measureGrowth, measureInFlight } from './memory.js';
import { renderText, writeResults, type Results } from './report.js';
import { setUpPinning } from './serverControl.js';
import { judgeExporterCost, judgeImportCost, judgeTargets, summarizeCpu, summarizeMemory } from './summary.js';

const KNOWN_FLAGS = ['--full'];
const unknown = process.argv.slice(2).filter((a) => !KNOWN_FLAGS.includes(a));
if (unknown.length > 0) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: pnpm bench [--full]`);
  process.exit(2);
}
const full = process.argv.includes('--full');
const config = benchConfig(full);
const started = performance.now();
const loadAverageStart = loadavg();
// Read before pinning: availableParallelism() follows this process's CPU affinity.
const cores = availableParallelism();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// The 64 KiB file of the file64k scenario lives in a temp dir removed at exit, however the run ends.
const tempDir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
const removeTemp = () => rmSync(tempDir, { recursive: true, force: true });
process.on('exit', removeTemp);
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
const filePath = join(tempDir, 'payload64k.bin');
writeFileSync(filePath, randomBytes(64 * 1024));

try {
  const pinning = setUpPinning();
  log(`${full ? 'full' : 'quick'} run; ${pinning.note}`);
  const importCost = await measureImportCost(config, log);
  const cpu = await measureCpu(config, filePath, pinning, log);
  const memorySamples = await measureInFlight(config, filePath, pinning, log);
  const growth = await measureGrowth(config, filePath, pinning, log);
  // The same load on a bare server: how much the heap moves with no tracking at all (V8 code, feedback, flushing).
  const growthControl = await measureGrowth(config, filePath, pinning, log, 'bare');
  log('core events (packages/core/bench/core.bench.ts)…');
  const core = await measureCore(full);
  log('exporter cost per request, in process…');
  const exporterCost = await measureExporterCost(config.exporterCost, config, log);
  const cpuSummary = summarizeCpu(cpu.samples, config);
  const memorySummary = summarizeMemory(memorySamples, config);
  const results: Results = {
    environment: {
      node: process.version,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores,
      date: new Date().toISOString(),
      command: `pnpm bench${full ? ' --full' : ''}`,
      pinning: pinning.note,
      loadAverageStart,
      loadAverageEnd: loadavg(),
      durationSeconds: (performance.now() - started) / 1000,
    },
    config,
    cpu: { summary: cpuSummary, samples: cpu.samples, warnings: cpu.warnings },
    memory: { summary: memorySummary, samples: memorySamples },
    growth,
    growthControl,
    core,
    importCost,
    exporterCost,
    targets: [...judgeTargets(cpuSummary, memorySummary, growth, growthControl, cpu.samples, config), judgeImportCost(importCost), ...judgeExporterCost(exporterCost)],
  };
  process.stdout.write(renderText(results));
  const dir = new URL('../../../bench-results/', import.meta.url);
  await writeResults(results, dir);
  log(`wrote ${new URL('results.json', dir).pathname} and results.md`);
} catch (error) {
  console.error('bench failed:', error);
  process.exitCode = 1;
} finally {
  removeTemp();
}
