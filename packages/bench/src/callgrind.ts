/**
 * Valgrind's callgrind, as the instruction count section uses it: whether it
 * is installed, the command that runs a server child under it with
 * instrumentation off, `callgrind_control` to switch it on, zero the counters
 * and dump them, and the reading of a dump's per-thread files (the total
 * instructions of every thread, and of the main thread alone).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
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
 * (start-up and warm-up run at valgrind's uninstrumented speed), one output file per thread
 * and dump in `dir`, valgrind's own messages in `dir/valgrind.log`.
 */
export function callgrindWrapper(cg: Callgrind, dir: string): string[] {
  return [cg.valgrind, '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg.%p')}`, `--log-file=${join(dir, 'valgrind.log')}`];
}

/** `callgrind_control <args> <pid>`: `-i on`, `-z` (zero), `-d` (dump). Resolves once valgrind has done it. */
export async function callgrindControl(cg: Callgrind, pid: number, args: readonly string[]): Promise<void> {
  await run(cg.control, [...args, String(pid)], { timeout: 120_000 });
}

/**
 * The dump and thread numbers of a per-thread dump file (`cg.<pid>.<dump>-<thread>`, as
 * {@link callgrindWrapper} names them); undefined for other files, such as the final one at exit (`cg.<pid>-<thread>`).
 */
export function dumpFileOf(name: string): { readonly dump: number; readonly thread: number } | undefined {
  const match = /^cg\.\d+\.(\d+)-(\d+)$/.exec(name);
  return match === null ? undefined : { dump: Number(match[1]), thread: Number(match[2]) };
}

/** A callgrind output file's total instructions (its `summary:` line, else `totals:`); undefined when it has neither. */
export function totalOf(text: string): number | undefined {
  const match = /^summary:\s*(\d+)/m.exec(text) ?? /^totals:\s*(\d+)/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

export interface DumpTotals {
  /** Instructions of every thread of the process. */
  readonly total: number;
  /** Instructions of thread 1, the main thread (JavaScript, the event loop). */
  readonly main: number;
  /** Per thread number, as callgrind numbers them (1 is the main thread). */
  readonly threads: Readonly<Record<number, number>>;
}

/** Adds up one dump's per-thread totals. Throws when a file has no total, or the main thread is missing. */
export function sumDump(files: readonly { readonly thread: number; readonly text: string }[]): DumpTotals {
  const threads: Record<number, number> = {};
  for (const { thread, text } of files) {
    const total = totalOf(text);
    if (total === undefined) throw new Error(`callgrind dump of thread ${thread} has no summary or totals line`);
    threads[thread] = total;
  }
  const main = threads[1];
  if (main === undefined) throw new Error('callgrind dump has no file for thread 1 (the main thread)');
  return { total: Object.values(threads).reduce((a, b) => a + b, 0), main, threads };
}

/** Reads dump number `dump` from `dir` (every thread's file), then deletes those files. */
export async function readDump(dir: string, dump: number): Promise<DumpTotals> {
  const names = (await readdir(dir)).filter((name) => dumpFileOf(name)?.dump === dump);
  const files = await Promise.all(names.map(async (name) => ({ thread: dumpFileOf(name)!.thread, text: await readFile(join(dir, name), 'utf8') })));
  await Promise.all(names.map((name) => rm(join(dir, name))));
  return sumDump(files);
}
