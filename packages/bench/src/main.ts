/**
 * `pnpm bench` (quick, about 5 min) and `pnpm bench --full` (precise, up to about 75 min; see config.ts):
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
import { benchConfig, SCENARIO_NAMES, smokeConfig } from './config.js';
import { measureCore } from './coreEvents.js';
import { measureCpu, type CpuSample } from './cpuPerRequest.js';
import { measureExporterCost } from './exporterCost.js';
import { H2_MODE_NAMES } from './h2Modes.js';
import { findNode, ownNode, type NodeBinary } from './nodes.js';
import { measureImportCost } from './importCost.js';
import { measureGrowth, measureInFlight } from './memory.js';
import { renderCpuOnly, renderText, writeResults, type Results } from './report.js';
import { bundleServerChildren } from './bundle.js';
import { setUpPinning } from './serverControl.js';
import { helloStopReason, judgeExporterCost, judgeHttp2, judgeImportCost, judgeResolution, judgeTargets, summarizeCpu, summarizeMemory } from './summary.js';

const USAGE = 'usage: pnpm bench [--full [--hello-minutes <n>] | --smoke] [--node <major or version of the server, default 24>] [--only cpu]';
const args = process.argv.slice(2);
const full = args.includes('--full');
const smoke = args.includes('--smoke');
const nodeArg = args.includes('--node') ? args[args.indexOf('--node') + 1] : undefined;
const cpuOnly = args.includes('--only') && args[args.indexOf('--only') + 1] === 'cpu';
const minutesArg = args.includes('--hello-minutes') ? args[args.indexOf('--hello-minutes') + 1] : undefined;
const unknown = args.filter((a, i) => !['--full', '--smoke', '--node', '--only', '--hello-minutes'].includes(a) && !['--node', '--only', '--hello-minutes'].includes(args[i - 1]!));
if (unknown.length > 0 || (args.includes('--only') && !cpuOnly) || (full && smoke)) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\n${USAGE}`);
  process.exit(2);
}
// --hello-minutes: the full run's time budget for its hello rounds (default 60), for a machine slower or noisier than the VM's.
const helloMinutes = minutesArg === undefined ? undefined : Number(minutesArg);
if (args.includes('--hello-minutes') && (!full || helloMinutes === undefined || !Number.isFinite(helloMinutes) || helloMinutes <= 0)) {
  console.error(`--hello-minutes takes a positive number of minutes, with --full only; got ${minutesArg ?? 'nothing'}${full ? '' : ' without --full'}\n${USAGE}`);
  process.exit(2);
}
const sized = smoke ? smokeConfig(benchConfig(false)) : benchConfig(full);
const config = helloMinutes === undefined ? sized : { ...sized, helloRounds: { ...sized.helloRounds, budgetMinutes: helloMinutes } };
/** The modes measured on the other Node majors: the baseline and its control, the floor, Lifeline's two ways in, and on-finished. */
const OTHER_NODE_MODES = ['bare', 'bare-control', 'handwritten', 'lifeline-instrument', 'lifeline-track', 'on-finished'] as const;
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
  log(`${full ? 'full' : smoke ? 'smoke (numbers meaningless)' : 'quick'} run; ${pinning.note}`);
  // The servers run on the current LTS when it is unpacked (pnpm test:node --install-only), else on this node.
  const serverNode: NodeBinary = findNode(nodeArg ?? '24') ?? ownNode();
  if (nodeArg !== undefined && serverNode.path === process.execPath && !process.version.startsWith(`v${nodeArg}`)) throw new Error(`node ${nodeArg} not found`);
  // Bundled once, now: every CPU round runs the sources as they were when the run started.
  const bundled = await bundleServerChildren(tempDir);
  log(`server children run on node ${serverNode.version} (bundled with esbuild from the current sources)`);
  const importCost = cpuOnly ? undefined : await measureImportCost(config, log, serverNode);
  const cpuStarted = performance.now();
  const hello = config.helloRounds;
  const cpu = await measureCpu(
    config,
    {
      scenarios: SCENARIO_NAMES,
      modesOf: (s) => (config.scenarios[s].http2 ? H2_MODE_NAMES : config.modes),
      rounds: config.rounds,
      roundsOf: (s) => (s === 'hello' ? hello.max : config.rounds),
      node: serverNode,
      bundled,
      // Past the minimum (and the other scenarios' rounds), hello gets rounds until it is resolved or the time is up.
      stopAfter: (samples, done) => helloStopReason(samples, config, done, (performance.now() - cpuStarted) / 60_000),
    },
    filePath,
    pinning,
    log,
  );
  const helloRounds = { rounds: cpu.rounds, stoppedBy: cpu.stoppedBy ?? (hello.min === hello.max ? 'the rounds planned' : `the most rounds planned (${hello.max})`) };
  // The other majors, hello only: how the cost moves with the runtime.
  const otherSamples: CpuSample[] = [];
  for (const major of config.otherNodes) {
    const node = findNode(major);
    if (node === undefined || node.version === serverNode.version) {
      if (node === undefined) cpu.warnings.push(`node ${major} not unpacked (pnpm test:node --install-only): not measured`);
      continue;
    }
    const other = await measureCpu(config, { scenarios: ['hello'], modesOf: () => OTHER_NODE_MODES, rounds: config.otherNodeRounds, node, bundled }, filePath, pinning, log);
    otherSamples.push(...other.samples);
    cpu.warnings.push(...other.warnings);
  }
  const cpuSummary = summarizeCpu(cpu.samples, config);
  const otherSummary = summarizeCpu(otherSamples, config);
  if (cpuOnly) {
    process.stdout.write(renderCpuOnly(cpuSummary, otherSummary, [judgeResolution(cpuSummary, config, helloRounds), ...judgeHttp2(cpu.samples, config)], config));
    process.exit(0);
  }
  const memorySamples = await measureInFlight(config, filePath, pinning, log);
  const growth = await measureGrowth(config, filePath, pinning, log);
  // The same load on a bare server: how much the heap moves with no tracking at all (V8 code, feedback, flushing).
  const growthControl = await measureGrowth(config, filePath, pinning, log, 'bare');
  log('core events (packages/core/bench/core.bench.ts)…');
  const core = await measureCore(full);
  log('exporter cost per request, in process…');
  const exporterCost = await measureExporterCost(config.exporterCost, config, log);
  const memorySummary = summarizeMemory(memorySamples, config);
  const results: Results = {
    environment: {
      node: process.version,
      serverNode: serverNode.version,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores,
      date: new Date().toISOString(),
      command: `pnpm bench ${args.join(' ')}`.trimEnd(),
      pinning: pinning.note,
      loadAverageStart,
      loadAverageEnd: loadavg(),
      durationSeconds: (performance.now() - started) / 1000,
    },
    config,
    cpu: { summary: cpuSummary, samples: cpu.samples, warnings: cpu.warnings, helloRounds, otherNodes: { summary: otherSummary, samples: otherSamples } },
    memory: { summary: memorySummary, samples: memorySamples },
    growth,
    growthControl,
    core,
    importCost: importCost!,
    exporterCost,
    targets: [
      judgeResolution(cpuSummary, config, helloRounds),
      ...judgeTargets(cpuSummary, memorySummary, growth, growthControl, cpu.samples, config),
      ...judgeHttp2(cpu.samples, config),
      judgeImportCost(importCost!),
      ...judgeExporterCost(exporterCost),
    ],
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
