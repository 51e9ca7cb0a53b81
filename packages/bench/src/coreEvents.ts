/**
 * The core section: events per second through the registry's compiled path
 * against XState's interpreter. It runs packages/core/bench/core.bench.ts
 * itself (the same file `pnpm bench:core` runs) in a child process and reads
 * the JSON it writes, so there is one implementation of that measurement.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const CORE_DIR = fileURLToPath(new URL('../../core/', import.meta.url));
const CORE_JSON = fileURLToPath(new URL('../../../bench-results/core.json', import.meta.url));

interface CoreJson {
  node: string;
  rounds: number;
  rows: { mode: string; nsPerEvent: number; ratioToCompiled: number }[];
  transitionRatio: number;
  heap: { journalOff: number; journal8: number };
}

export interface CoreResult {
  readonly rounds: number;
  readonly rows: readonly { readonly mode: string; readonly nsPerEvent: number; readonly eventsPerSecond: number; readonly compiledIsFasterBy: number }[];
  /** Heap bytes per in-flight registry entry (no adapter, no socket). */
  readonly registryHeap: { readonly journalOff: number; readonly journal8: number };
}

export async function measureCore(full: boolean): Promise<CoreResult> {
  const args = ['--conditions=@lifeline/source', '--expose-gc', '--import', 'tsx', 'bench/core.bench.ts', ...(full ? [] : ['--quick'])];
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { cwd: CORE_DIR, timeout: 600_000, maxBuffer: 1 << 20 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`core.bench.ts failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
  const json = JSON.parse(await readFile(CORE_JSON, 'utf8')) as CoreJson;
  const compiled = json.rows.find((r) => r.mode === 'compiled');
  if (compiled === undefined) throw new Error(`${CORE_JSON} has no "compiled" row`);
  return {
    rounds: json.rounds,
    rows: json.rows.map((r) => ({
      mode: r.mode,
      nsPerEvent: r.nsPerEvent,
      eventsPerSecond: 1e9 / r.nsPerEvent,
      compiledIsFasterBy: r.nsPerEvent / compiled.nsPerEvent,
    })),
    registryHeap: json.heap,
  };
}
