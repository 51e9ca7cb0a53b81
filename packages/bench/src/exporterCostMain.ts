/**
 * `pnpm bench:exporters [--full]`: what each metrics exporter adds to one
 * request, in process (see exporterCost.ts). Printed, not written to
 * bench-results/ (those files hold whole runs of `pnpm bench`).
 */
import { EXPORTER_MODE_DESCRIPTIONS, measureExporterCost } from './exporterCost.js';
import { signed } from './summary.js';

const KNOWN_FLAGS = ['--full'];
const unknown = process.argv.slice(2).filter((a) => !KNOWN_FLAGS.includes(a));
if (unknown.length > 0) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: pnpm bench:exporters [--full]`);
  process.exit(2);
}
const full = process.argv.includes('--full');
const config = { rounds: full ? 21 : 9, warmup: 100_000, requests: full ? 1_000_000 : 300_000, bootstrapResamples: 2_000, seed: 20_240_611 };
const result = await measureExporterCost(config, (line) => process.stderr.write(`[bench] ${line}\n`));
const lines = [
  `### Exporter cost per request, in process — ${config.requests.toLocaleString('en-US')} requests per mode per round, ${config.rounds} paired rounds, Node ${process.version}`,
  '',
  '| mode | ns/request (median) | Δ ns vs none: median [95% CI] | ratio to none: median [95% CI] | what |',
  '| --- | ---: | ---: | ---: | --- |',
  ...result.rows.map((r) =>
    r.diffNs === undefined || r.ratio === undefined
      ? `| ${r.mode} | ${r.nsPerRequest.toFixed(0)} | baseline | | ${EXPORTER_MODE_DESCRIPTIONS[r.mode]} |`
      : `| ${r.mode} | ${r.nsPerRequest.toFixed(0)} | ${signed(r.diffNs.median, 0)} [${signed(r.diffNs.ci.low, 0)}, ${signed(r.diffNs.ci.high, 0)}] | ${r.ratio.median.toFixed(2)} [${r.ratio.ci.low.toFixed(2)}, ${r.ratio.ci.high.toFixed(2)}] | ${EXPORTER_MODE_DESCRIPTIONS[r.mode]} |`,
  ),
  '',
];
process.stdout.write(lines.join('\n'));
