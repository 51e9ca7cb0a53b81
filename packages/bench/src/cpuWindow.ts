/**
 * A server child's measurement window: `process.cpuUsage()` (every thread of
 * the process), the main thread's own CPU time (`process.threadCpuUsage()`,
 * Node 22.? / 23.9+; absent on Node 20) and the main thread's GC pauses
 * (perf_hooks 'gc' entries, one per collection) between `begin` and `end`.
 */
import { PerformanceObserver } from 'node:perf_hooks';

export interface CpuReading {
  /** CPU microseconds in the window, all threads of the process (GC helpers included). */
  readonly userUs: number;
  readonly systemUs: number;
  /** Main-thread GC pauses in the window (perf_hooks 'gc' entries): their total and count. */
  readonly gcUs: number;
  readonly gcCount: number;
  /** The main thread alone (no JIT compiler or GC helper threads); undefined where Node lacks `process.threadCpuUsage`. */
  readonly mainUserUs?: number;
  readonly mainSystemUs?: number;
}

export interface CpuWindow {
  begin(): void;
  read(): CpuReading;
}

export function cpuWindow(): CpuWindow {
  let gcMs = 0;
  let gcCount = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcCount++;
    }
  }).observe({ entryTypes: ['gc'] });
  const thread = (process as { threadCpuUsage?: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage }).threadCpuUsage?.bind(process);
  let start = { cpu: process.cpuUsage(), main: thread?.(), gcMs, gcCount };
  return {
    begin() {
      start = { cpu: process.cpuUsage(), main: thread?.(), gcMs, gcCount };
    },
    read() {
      const cpu = process.cpuUsage(start.cpu);
      const main = thread === undefined ? undefined : thread(start.main);
      return {
        userUs: cpu.user,
        systemUs: cpu.system,
        gcUs: (gcMs - start.gcMs) * 1000,
        gcCount: gcCount - start.gcCount,
        ...(main === undefined ? {} : { mainUserUs: main.user, mainSystemUs: main.system }),
      };
    },
  };
}
