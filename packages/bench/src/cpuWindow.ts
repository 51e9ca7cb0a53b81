/**
 * A server child's measurement window: `process.cpuUsage()` (every thread of
 * the process) and the main thread's GC pauses (perf_hooks 'gc' entries,
 * one per collection) between `begin` and `end`.
 */
import { PerformanceObserver } from 'node:perf_hooks';

export interface CpuReading {
  readonly userUs: number;
  readonly systemUs: number;
  readonly gcUs: number;
  readonly gcCount: number;
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
  let start = { cpu: process.cpuUsage(), gcMs, gcCount };
  return {
    begin() {
      start = { cpu: process.cpuUsage(), gcMs, gcCount };
    },
    read() {
      const cpu = process.cpuUsage(start.cpu);
      return { userUs: cpu.user, systemUs: cpu.system, gcUs: (gcMs - start.gcMs) * 1000, gcCount: gcCount - start.gcCount };
    },
  };
}
