/**
 * `pnpm --filter @lifeline/bench bench:exporters [--full]`: the exporter cost section alone (see
 * exporterCost.ts), printed, not written to bench-results/ (those files hold whole runs). A separate
 * entry point for the same reason as importCostMain.ts.
 */
import { benchConfig } from './config.js';
import { measureExporterCost } from './exporterCost.js';
import { renderExporterCost } from './report.js';
import { judgeExporterCost } from './summary.js';

const KNOWN_FLAGS = ['--full'];
const unknown = process.argv.slice(2).filter((a) => !KNOWN_FLAGS.includes(a));
if (unknown.length > 0) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: pnpm bench:exporters [--full]`);
  process.exit(2);
}
const config = benchConfig(process.argv.includes('--full'));
const result = await measureExporterCost(config.exporterCost, config, (line) => process.stderr.write(`[bench] ${line}\n`));
const verdicts = judgeExporterCost(result).map((v) => `${v.name}: ${v.measured}; wanted ${v.target}: ${v.met ? 'met' : 'NOT met'}${v.note ? ` (${v.note})` : ''}`);
process.stdout.write(`node ${result.node}\n${renderExporterCost(result)}\n${verdicts.join('\n')}\n`);
