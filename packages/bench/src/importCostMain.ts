/**
 * `pnpm --filter @lifeline/bench bench:import [--full] [--node <major>]`: the import cost section alone, on
 * node 24 when unpacked (as the whole bench) or the given major, printed, not
 * written to bench-results/ (those files hold whole runs). A separate entry point because the section's
 * module is imported by the report, and a module that awaits its own importers never finishes loading.
 */
import { benchConfig } from './config.js';
import { measureImportCost } from './importCost.js';
import { findNode, ownNode } from './nodes.js';
import { renderImportCost } from './report.js';
import { judgeImportCost } from './summary.js';

const args = process.argv.slice(2);
const wanted = args.includes('--node') ? args[args.indexOf('--node') + 1] : undefined;
if (args.includes('--node') && (wanted === undefined || wanted.startsWith('--'))) {
  process.stderr.write('--node takes a major or a version (e.g. --node 22)\n');
  process.exit(2);
}
const node = findNode(wanted ?? '24') ?? (wanted === undefined ? ownNode() : undefined);
if (node === undefined) {
  process.stderr.write(`node ${wanted} not found (pnpm test:node --install-only unpacks 22, 24 and 26)\n`);
  process.exit(2);
}
const result = await measureImportCost(benchConfig(args.includes('--full')), (line) => process.stderr.write(`[bench] ${line}\n`), node);
const verdict = judgeImportCost(result);
process.stdout.write(`${renderImportCost(result)}\n${verdict.name}: ${verdict.measured}; wanted ${verdict.target}: ${verdict.met ? 'met' : 'NOT met'}${verdict.note ? ` (${verdict.note})` : ''}\n`);
