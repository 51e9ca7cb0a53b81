/**
 * `pnpm bench:instructions` (quick) and `pnpm bench:instructions --full`:
 * instructions per request of each mode's server under valgrind's callgrind
 * (instructions.ts). Without valgrind it says how to install it and exits 0
 * without numbers. Prints the tables and writes
 * bench-results/instructions.{json,md}; progress goes to stderr.
 */
import { cpus, loadavg } from 'node:os';
import { findCallgrind } from './callgrind.js';
import { instructionsConfig, measureInstructions, smokeInstructionsConfig } from './instructions.js';
import { IR_SCENARIOS, judgeInstructions, summarizeInstructions, type IrScenario } from './instructionSummary.js';
import { renderInstructionsText, writeInstructionsResults, type InstructionsResults } from './instructionsReport.js';
import { findNode, ownNode, type NodeBinary } from './nodes.js';

const USAGE = `usage: pnpm bench:instructions [--full | --smoke] [--rounds <n>] [--node <major or version of the server, default 24>] [--scenarios <${IR_SCENARIOS.join(',')}>]`;
const args = process.argv.slice(2);
const full = args.includes('--full');
const smoke = args.includes('--smoke');
const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const nodeArg = valueOf('--node');
const roundsArg = valueOf('--rounds');
const scenariosArg = valueOf('--scenarios');
const only = scenariosArg?.split(',');
const badScenarios = args.includes('--scenarios') && (only === undefined || only.length === 0 || only.some((x) => !(IR_SCENARIOS as readonly string[]).includes(x)));
const unknown = args.filter((a, i) => !['--full', '--smoke', '--node', '--rounds', '--scenarios'].includes(a) && !['--node', '--rounds', '--scenarios'].includes(args[i - 1]!));
const badRounds = roundsArg !== undefined && !(Number.isInteger(Number(roundsArg)) && Number(roundsArg) >= 1);
if (badScenarios) {
  console.error(`--scenarios takes a comma-separated list of ${IR_SCENARIOS.join(', ')}; got ${scenariosArg ?? 'nothing'}\n${USAGE}`);
  process.exit(2);
}
if (unknown.length > 0 || (full && smoke) || (args.includes('--node') && nodeArg === undefined) || (args.includes('--rounds') && (roundsArg === undefined || badRounds))) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\n${USAGE}`);
  process.exit(2);
}

const started = performance.now();
const loadAverageStart = loadavg();
const log = (line: string) => process.stderr.write(`[bench:instructions ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

const cg = await findCallgrind();
if (cg === undefined) {
  process.stdout.write(
    'bench:instructions needs valgrind (callgrind and callgrind_control), which is not on PATH: nothing measured.\n' +
      'Install it, then run again:\n' +
      '  sudo apt-get install valgrind      # Debian, Ubuntu\n' +
      '  sudo dnf install valgrind          # Fedora\n',
  );
  process.exit(0);
}
const node: NodeBinary = findNode(nodeArg ?? '24') ?? ownNode();
if (nodeArg !== undefined && node.path === process.execPath && !process.version.startsWith(`v${nodeArg}`)) {
  console.error(`node ${nodeArg} not found (pnpm test:node --install-only unpacks the pinned versions)`);
  process.exit(2);
}
const sized = smoke ? smokeInstructionsConfig(instructionsConfig(false)) : instructionsConfig(full);
const config = { ...sized, ...(roundsArg === undefined ? {} : { rounds: Number(roundsArg) }), ...(only === undefined ? {} : { only: only as IrScenario[] }) };
log(`${full ? 'full' : smoke ? 'smoke (numbers meaningless)' : 'quick'} run: ${config.rounds} rounds${only === undefined ? '' : ` of ${only.join(', ')}`}, servers on node ${node.version} under ${cg.version}, ${config.jobs} at a time`);

try {
  const { samples, warnings } = await measureInstructions(config, cg, node, log);
  const options = { resamples: config.bootstrapResamples, seed: config.seed };
  const summary = summarizeInstructions(samples, (scenario) => config.scenarios[scenario].modes, options);
  const results: InstructionsResults = {
    environment: {
      node: process.version,
      serverNode: node.version,
      valgrind: cg.version,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      date: new Date().toISOString(),
      command: `pnpm bench:instructions ${args.join(' ')}`.trimEnd(),
      loadAverageStart,
      loadAverageEnd: loadavg(),
      durationSeconds: (performance.now() - started) / 1000,
    },
    config,
    summary,
    samples,
    targets: judgeInstructions(samples, summary, options),
    warnings,
  };
  process.stdout.write(renderInstructionsText(results));
  const dir = new URL('../../../bench-results/', import.meta.url);
  await writeInstructionsResults(results, dir);
  log(`wrote ${new URL('instructions.json', dir).pathname} and instructions.md`);
} catch (error) {
  console.error('bench:instructions failed:', error);
  process.exitCode = 1;
}
