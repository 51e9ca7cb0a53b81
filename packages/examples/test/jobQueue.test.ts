import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobTable } from '../src/jobQueue/jobMachine.js';
import { createJobQueue } from '../src/jobQueue/jobQueue.js';
import { expectedEndings, runJobPlans, type JobPlan } from '../src/jobQueue/jobScenario.js';

const plan = fc.constantFrom<JobPlan>('completes', 'fails', 'cancelled-while-queued', 'cancelled-while-running', 'runs-until-shutdown');

describe('job queue on its own machine', () => {
  it('runs on the compiled job machine: queued and running are live, done, cancelled and failed are final', () => {
    expect(jobTable.states.map((state, i) => [state, jobTable.final[i]])).toEqual([
      ['queued', 0],
      ['running', 0],
      ['done', 1],
      ['cancelled', 1],
      ['failed', 1],
    ]);
  });

  it('ends each job as done, failed or cancelled with the reason it was cancelled for', async () => {
    const plans: JobPlan[] = ['completes', 'runs-until-shutdown', 'fails', 'cancelled-while-queued', 'cancelled-while-running', 'runs-until-shutdown', 'completes'];
    const { jobs, registrySize } = await runJobPlans(plans, 2);
    expect(jobs.map((job) => job.ended)).toEqual([
      'done',
      'cancelled/shutdown',
      'failed',
      'cancelled/requested',
      'cancelled/requested',
      'cancelled/shutdown', // the second job that holds a slot: the queue is full from here on
      'cancelled/shutdown', // never started
    ]);
    expect(jobs.map((job) => job.expected)).toEqual(jobs.map((job) => job.ended));
    expect(registrySize).toBe(0);
  });

  it('for any jobs and concurrency, every job ends once as its plan and its place in the queue imply, no more than `concurrency` run at once, and the registry empties', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(plan, { maxLength: 12 }), fc.integer({ min: 1, max: 3 }), async (plans, concurrency) => {
        const { jobs, registrySize, maxRunning } = await runJobPlans(plans, concurrency);
        expect(jobs.map((job) => job.ended)).toEqual(expectedEndings(plans, concurrency));
        expect(registrySize).toBe(0);
        expect(maxRunning).toBeLessThanOrEqual(concurrency);
      }),
      { numRuns: 60 },
    );
  });

  it("reports a failed job's error, ignores facts the machine has no transition for, and cancels only jobs in flight", async () => {
    const queue = createJobQueue({ concurrency: 1 });
    const failing = queue.enqueue('broken', () => {
      throw new TypeError('bad input');
    });
    const waiting = queue.enqueue('waits', () => 'ran');
    expect(queue.registry.dispatch(waiting.id, { type: 'COMPLETE' })).toBe('queued'); // a queued job cannot complete
    const results = await Promise.all([failing.result, waiting.result]);
    expect(results).toEqual([
      { outcome: 'failed', error: { name: 'TypeError', message: 'bad input' } },
      { outcome: 'done', value: 'ran' },
    ]);
    expect(queue.cancel(waiting.id)).toBe(false);
    expect(queue.registry.size).toBe(0);
  });

  it('refuses a concurrency that is not a positive integer, naming it', () => {
    expect(() => createJobQueue({ concurrency: 0 })).toThrow(/concurrency must be an integer >= 1, got 0/);
  });
});
