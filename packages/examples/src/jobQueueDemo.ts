/**
 * `pnpm example:jobs`: a job queue whose jobs follow their own XState machine
 * (queued → running → done | cancelled | failed), compiled with `compileMachine`
 * and tracked in a registry for that machine. Jobs complete, fail, are cancelled
 * while queued or while running, or are still running when the queue shuts down;
 * it prints how each kind ended and whether the registry returned to 0.
 */
import { runIfEntryPoint } from './entryPoint.js';
import { runJobPlans, type JobPlan } from './jobQueue/jobScenario.js';

const KINDS: readonly JobPlan[] = ['completes', 'completes', 'fails', 'cancelled-while-queued', 'cancelled-while-running', 'runs-until-shutdown'];

runIfEntryPoint(import.meta.url, async () => {
  const plans = Array.from({ length: 24 }, (_, i) => KINDS[i % KINDS.length]!);
  const report = await runJobPlans(plans, 3);
  const counts = new Map<string, number>();
  for (const { ended } of report.jobs) counts.set(ended, (counts.get(ended) ?? 0) + 1);
  const wrong = report.jobs.filter((job) => job.ended !== job.expected);
  for (const job of wrong) console.log(`job ${job.id} (${job.plan}): expected ${job.expected}, ended ${job.ended}`);
  const ok = wrong.length === 0 && report.registrySize === 0 && report.maxRunning <= 3;
  console.log(
    `verdict: ${plans.length} jobs, concurrency 3 (at most ${report.maxRunning} ran at once); ${[...counts].sort().map(([k, n]) => `${k} ${n}`).join(', ')}; ` +
      `registry ${report.registrySize === 0 ? 'returned to 0' : `left ${report.registrySize}`}; ${ok ? 'every job ended as planned' : `${wrong.length} ended otherwise`}`,
  );
  if (!ok) process.exitCode = 1;
});
