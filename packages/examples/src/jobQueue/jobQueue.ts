import { toErrorInfo } from '@lifeline/core';
import { jobTable, type CancelReason, type JobEvent, type JobOutcome, type JobState } from './jobMachine.js';
import { createMachineRegistry, type MachineRegistry } from './machineRegistry.js';

/** How a job ended, as its `result` promise reports it (it never rejects). */
export type JobResult<T> =
  | { readonly outcome: 'done'; readonly value: T }
  | { readonly outcome: 'failed'; readonly error: unknown }
  | { readonly outcome: 'cancelled'; readonly reason: CancelReason };

/**
 * What the registry keeps with each job: its work, the controller behind the work's
 * signal and how to settle its result. The registry is the queue: nothing else holds a job.
 */
export interface JobMeta {
  readonly name: string;
  readonly start: () => void;
  readonly controller: AbortController;
  readonly settle: (outcome: JobOutcome, event: JobEvent) => void;
}

export interface Job<T> {
  readonly id: number;
  readonly result: Promise<JobResult<T>>;
}

export interface JobQueue {
  /**
   * Queues `run`; it starts, oldest first, when fewer than `concurrency` jobs are running
   * (never synchronously inside `enqueue`). `signal` aborts if the job is cancelled.
   */
  enqueue<T>(name: string, run: (signal: AbortSignal) => T | Promise<T>): Job<T>;
  /** Cancels a queued or running job; `false` if it had already ended. */
  cancel(id: number, reason?: CancelReason): boolean;
  /** Jobs running now. */
  readonly running: number;
  /** Jobs waiting to start. */
  readonly queued: number;
  readonly registry: MachineRegistry<JobState, JobEvent, JobMeta, JobOutcome>;
  /** Cancels every job still queued or running (`shutdown`). */
  close(): void;
}

/**
 * A job queue whose jobs live in a registry of their own machine (`jobMachine`):
 * each job is released exactly once, as `done`, `cancelled` or `failed`.
 *
 * @example
 * ```ts
 * const queue = createJobQueue({ concurrency: 2 });
 * const job = queue.enqueue('thumbnail', async (signal) => resize(image, { signal }));
 * queue.cancel(job.id);
 * await job.result; // { outcome: 'cancelled', reason: 'requested' }
 * ```
 */
export function createJobQueue({ concurrency }: { concurrency: number }): JobQueue {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`createJobQueue: concurrency must be an integer >= 1, got ${concurrency}`);
  const registry = createMachineRegistry<JobState, JobEvent, JobMeta, JobOutcome>(jobTable);
  let pumping = false;
  const pump = () => {
    pumping = false;
    let free = concurrency - registry.list('running').length;
    for (const { id, meta } of registry.list('queued')) {
      if (free-- <= 0) break;
      registry.dispatch(id, { type: 'START' });
      meta.start();
    }
  };
  const schedulePump = () => {
    if (!pumping) (pumping = true), queueMicrotask(pump);
  };
  registry.onRelease(({ outcome, event, meta }) => {
    meta.controller.abort(event);
    meta.settle(outcome, event);
    schedulePump();
  });

  return {
    enqueue<T>(name: string, run: (signal: AbortSignal) => T | Promise<T>): Job<T> {
      const controller = new AbortController();
      let value: T;
      let resolve!: (result: JobResult<T>) => void;
      const result = new Promise<JobResult<T>>((r) => (resolve = r));
      const id = registry.open({
        name,
        controller,
        start: () => {
          new Promise<T>((r) => r(run(controller.signal))).then(
            (v) => ((value = v), registry.dispatch(id, { type: 'COMPLETE' })),
            // After a cancel the job is no longer in flight: this fact is ignored, the outcome stays `cancelled`.
            (error: unknown) => registry.dispatch(id, { type: 'FAIL', error: toErrorInfo(error) }),
          );
        },
        settle: (outcome, event) =>
          resolve(
            outcome === 'done'
              ? { outcome, value }
              : outcome === 'failed'
                ? { outcome, error: (event as Extract<JobEvent, { type: 'FAIL' }>).error }
                : { outcome: 'cancelled', reason: (event as Extract<JobEvent, { type: 'CANCEL' }>).reason },
          ),
      });
      schedulePump();
      return { id, result };
    },
    cancel(id, reason = 'requested') {
      return registry.dispatch(id, { type: 'CANCEL', reason }) === 'cancelled';
    },
    get running() {
      return registry.list('running').length;
    },
    get queued() {
      return registry.list('queued').length;
    },
    registry,
    close() {
      for (const state of ['queued', 'running'] as const) {
        for (const { id } of registry.list(state)) registry.dispatch(id, { type: 'CANCEL', reason: 'shutdown' });
      }
    },
  };
}
