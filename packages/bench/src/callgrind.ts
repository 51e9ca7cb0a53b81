/**
 * Valgrind's callgrind, as the instruction count section uses it: whether it
 * is installed, the command that runs a server child under it with
 * instrumentation off, and `callgrind_control` to switch it on, zero the
 * counters and read them per thread (no dump files: `-e` prints them).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Callgrind {
  readonly valgrind: string;
  readonly control: string;
  /** `valgrind --version`, e.g. `valgrind-3.19.0`. */
  readonly version: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    if (dir !== '' && existsSync(path)) return path;
  }
  return undefined;
}

/** valgrind and callgrind_control from PATH, or undefined when either is missing. */
export async function findCallgrind(): Promise<Callgrind | undefined> {
  const valgrind = onPath('valgrind');
  const control = onPath('callgrind_control');
  if (valgrind === undefined || control === undefined) return undefined;
  const { stdout } = await run(valgrind, ['--version']);
  return { valgrind, control, version: stdout.trim() };
}

/**
 * The wrapper that runs node under callgrind: nothing counted until `instrumentation on`
 * (start-up and warm-up run at valgrind's uninstrumented speed), counters kept per thread,
 * valgrind's own messages in `dir/valgrind.log` and its dump at exit in `dir` (never read).
 */
export function callgrindWrapper(cg: Callgrind, dir: string): string[] {
  return [cg.valgrind, '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg.%p')}`, `--log-file=${join(dir, 'valgrind.log')}`];
}

/** `callgrind_control <args> <pid>`: `-i on`, `-z` (zero the counters). Resolves once valgrind has done it. */
export async function callgrindControl(cg: Callgrind, pid: number, args: readonly string[]): Promise<void> {
  await run(cg.control, [...args, String(pid)], { timeout: 120_000 });
}

export interface Counters {
  /** Instructions of every thread of the process. */
  readonly total: number;
  /** Instructions of thread 1, the main thread (JavaScript, the event loop). */
  readonly main: number;
  /** Per thread number, as callgrind numbers them (1 is the main thread). */
  readonly threads: Readonly<Record<number, number>>;
}

/**
 * Reads `callgrind_control -e` output: one `Th <n> <count>` line per thread (with
 * `--separate-threads=yes`), counts with thousands separators. Throws when the main thread's line is missing.
 */
export function parseCounters(output: string): Counters {
  const threads: Record<number, number> = {};
  for (const match of output.matchAll(/^\s*Th\s+(\d+)\s+([\d,]+)\s*$/gm)) threads[Number(match[1])] = Number(match[2]!.replaceAll(',', ''));
  const main = threads[1];
  if (main === undefined) throw new Error(`callgrind_control -e printed no count for thread 1 (the main thread): ${JSON.stringify(output.slice(0, 300))}`);
  return { total: Object.values(threads).reduce((a, b) => a + b, 0), main, threads };
}

/** The instructions each thread executed since instrumentation went on or the last `-z`, without writing a dump. */
export async function readCounters(cg: Callgrind, pid: number): Promise<Counters> {
  const { stdout } = await run(cg.control, ['-e', String(pid)], { timeout: 120_000 });
  return parseCounters(stdout);
}
