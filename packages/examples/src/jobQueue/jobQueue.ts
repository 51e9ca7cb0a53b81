import { createMachineRegistry, toErrorInfo, type RegistryFor } from '@lifeline/core';
import { jobTable, type CancelReason, type JobEvent } from './jobMachine.js';

/** How a job ended, as its `result` promise reports it (it never rejects). */
export type JobResult<T> =
  | { readonly outcome: 'done'; readonly value: T }
  | { readonly outcome: 'failed'; readonly error: unknown }
  | { readonly outcome: 'cancelled'; readonly reason: CancelReason };

/** What the registry keeps with each job: its name and how to start it. The registry is the queue: nothing else holds a job. */
export interface JobMeta {
  readonly name: string;
  readonly start: () => void;
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
  readonly registry: RegistryFor<typeof jobTable, JobMeta>;
  /** Cancels every job still queued or running (`shutdown`). */
  close(): void;
}

/**
 * A job queue whose jobs live in a registry of their own machine (`jobMachine`,
 * through `createMachineRegistry`): each job is released exactly once, as `done`,
 * `cancelled` or `failed`; its work gets the job handle's `signal`, and its result
 * settles in the handle's `onEnd`.
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
  const registry = createMachineRegistry<typeof jobTable, JobMeta>(jobTable, { transport: 'queue' });
  let pumping = false;
  const pump = () => {
    pumping = false;
    let free = concurrency - registry.list({ state: 'running' }).length;
    for (const { id, meta } of registry.list({ state: 'queued' })) {
      if (free-- <= 0) break;
      registry.dispatch(id, { type: 'START' });
      meta!.start();
    }
  };
  const schedulePump = () => {
    if (!pumping) (pumping = true), queueMicrotask(pump);
  };
  registry.onRelease(schedulePump); // a slot may be free

  return {
    enqueue<T>(name: string, run: (signal: AbortSignal) => T | Promise<T>): Job<T> {
      let value: T;
      const id = registry.open({
        meta: {
          name,
          start: () => {
            new Promise<T>((r) => r(run(job.signal))).then(
              (v) => ((value = v), registry.dispatch(id, { type: 'COMPLETE' })),
              // After a cancel the job is no longer in flight: this fact is late, the outcome stays `cancelled`.
              (error: unknown) => registry.dispatch(id, { type: 'FAIL', error: toErrorInfo(error) }),
            );
          },
        },
      });
      const job = registry.handle(id)!;
      const result = new Promise<JobResult<T>>((resolve) =>
        job.onEnd((outcome, event) =>
          resolve(
            outcome === 'done'
              ? { outcome, value }
              : outcome === 'failed'
                ? { outcome, error: (event as Extract<JobEvent, { type: 'FAIL' }>).error }
                : { outcome, reason: (event as Extract<JobEvent, { type: 'CANCEL' }>).reason },
          ),
        ),
      );
      schedulePump();
      return { id, result };
    },
    cancel(id, reason = 'requested') {
      return registry.dispatch(id, { type: 'CANCEL', reason }) === 'cancelled';
    },
    get running() {
      return registry.list({ state: 'running' }).length;
    },
    get queued() {
      return registry.list({ state: 'queued' }).length;
    },
    registry,
    close() {
      for (const { id } of registry.list()) registry.dispatch(id, { type: 'CANCEL', reason: 'shutdown' });
    },
  };
}
