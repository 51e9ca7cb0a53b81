/** One exporter-cost sample in a fresh process (see exporterCost.ts): `exporterCostChild.ts <mode> <warmup> <requests>`. */
import { EXPORTER_MODES, sampleInProcess, type ExporterMode } from './exporterCost.js';

const [mode, warmup, requests] = process.argv.slice(2);
if (!(EXPORTER_MODES as readonly string[]).includes(mode ?? '')) throw new Error(`unknown exporter mode ${mode}`);
process.stdout.write(`${sampleInProcess(mode as ExporterMode, Number(warmup), Number(requests))}\n`);
