import { createJobQueue, type JobResult } from './jobQueue.js';

/** What one job does. */
export type JobPlan = 'completes' | 'fails' | 'cancelled-while-queued' | 'cancelled-while-running' | 'runs-until-shutdown';

/**
 * How each job must end, `outcome` or `outcome/reason`. The queue is FIFO and every job
 * but `runs-until-shutdown` ends soon after it starts, so a job starts if and only if
 * fewer than `concurrency` jobs that run until shutdown started before it; the jobs that
 * never start are cancelled by the shutdown.
 */
export function expectedEndings(plans: readonly JobPlan[], concurrency: number): string[] {
  let held = 0;
  return plans.map((plan) => {
    if (plan === 'cancelled-while-queued') return 'cancelled/requested';
    if (held >= concurrency) return 'cancelled/shutdown';
    if (plan === 'runs-until-shutdown') return held++, 'cancelled/shutdown';
    return plan === 'completes' ? 'done' : plan === 'fails' ? 'failed' : 'cancelled/requested';
  });
}

export interface JobPlanReport {
  readonly jobs: readonly { readonly id: number; readonly plan: JobPlan; readonly expected: string; readonly ended: string }[];
  readonly registrySize: number;
  /** The most jobs running at once, sampled at each start. */
  readonly maxRunning: number;
}

const endingOf = (result: JobResult<unknown>) => (result.outcome === 'cancelled' ? `cancelled/${result.reason}` : result.outcome);

/**
 * Enqueues one job per plan, cancels the ones planned to be cancelled (while queued: at
 * once; while running: as they start), waits until only jobs that run until shutdown are
 * running and nothing else can start, shuts the queue down, and reports how each ended.
 *
 * @example
 * ```ts
 * const { jobs } = await runJobPlans(['completes', 'runs-until-shutdown'], 1);
 * jobs.map((j) => j.ended); // ['done', 'cancelled/shutdown']
 * ```
 */
export async function runJobPlans(plans: readonly JobPlan[], concurrency: number): Promise<JobPlanReport> {
  const queue = createJobQueue({ concurrency });
  const untilAborted = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  const started = new Set<number>();
  const ended = new Map<number, string>();
  let maxRunning = 0;
  const jobs = plans.map((plan) => {
    const job = queue.enqueue(plan, async (signal) => {
      started.add(job.id);
      maxRunning = Math.max(maxRunning, queue.running);
      await new Promise((resolve) => setImmediate(resolve));
      if (plan === 'fails') throw new Error('the job failed');
      if (plan === 'cancelled-while-running') queue.cancel(job.id);
      if (plan === 'runs-until-shutdown' || plan === 'cancelled-while-running') await untilAborted(signal);
      return plan;
    });
    if (plan === 'cancelled-while-queued') queue.cancel(job.id);
    void job.result.then((result) => ended.set(job.id, endingOf(result)));
    return { id: job.id, plan, result: job.result };
  });
  // Nothing more can happen by itself once every job still in flight runs until shutdown, or waits behind a full queue of them.
  const settled = () =>
    jobs.every(({ id, plan }) => ended.has(id) || (plan === 'runs-until-shutdown' && started.has(id)) || (!started.has(id) && queue.running === concurrency));
  while (!settled()) await new Promise((resolve) => setImmediate(resolve));
  queue.close();
  const results = await Promise.all(jobs.map((job) => job.result));
  const expected = expectedEndings(plans, concurrency);
  return {
    jobs: jobs.map(({ id, plan }, i) => ({ id, plan, expected: expected[i]!, ended: endingOf(results[i]!) })),
    registrySize: queue.registry.size,
    maxRunning,
  };
}
