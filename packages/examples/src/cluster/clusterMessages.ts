import type { RegistryStats } from '@lifeline/core';

/** The IPC messages between the cluster example's primary and its workers. */
export const workerMessages = {
  /** Primary → worker: stop accepting, drain, report, exit. */
  drain: 'lifeline:drain',
  /** Worker → primary: what was left at exit. */
  exitReport: 'lifeline:exit-report',
  /** Primary → worker: report received, exit now. */
  exitAck: 'lifeline:exit-ack',
} as const;

/** What a worker reports just before it exits. */
export interface WorkerExitReport {
  readonly type: typeof workerMessages.exitReport;
  readonly pid: number;
  /** Connections still in the worker's registry at exit: 0 when nothing leaked. */
  readonly registrySize: number;
  /** Connections that ended by themselves during the drain. */
  readonly drained: number;
  /** Connections the drain's deadline had to end. */
  readonly forced: number;
  readonly stats: RegistryStats;
}

export function isExitReport(message: unknown): message is WorkerExitReport {
  return (message as { type?: unknown } | null)?.type === workerMessages.exitReport;
}
