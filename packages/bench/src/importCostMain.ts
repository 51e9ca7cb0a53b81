/**
 * `pnpm --filter @lifeline/bench bench:import [--full]`: the import cost section alone, printed, not
 * written to bench-results/ (those files hold whole runs). A separate entry point because the section's
 * module is imported by the report, and a module that awaits its own importers never finishes loading.
 */
import { benchConfig } from './config.js';
import { measureImportCost } from './importCost.js';
import { renderImportCost } from './report.js';
import { judgeImportCost } from './summary.js';

const result = await measureImportCost(benchConfig(process.argv.includes('--full')), (line) => process.stderr.write(`[bench] ${line}\n`));
const verdict = judgeImportCost(result);
process.stdout.write(`${renderImportCost(result)}\n${verdict.name}: ${verdict.measured}; wanted ${verdict.target}: ${verdict.met ? 'met' : 'NOT met'}${verdict.note ? ` (${verdict.note})` : ''}\n`);
