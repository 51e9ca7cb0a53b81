import { describe, expect, it } from 'vitest';
import { summarizeImportCost, type ImportSample, type ImportTarget } from '../src/importCost.js';
import { judgeImportCost } from '../src/summary.js';

const config = { bootstrapResamples: 500, seed: 1 };

/** Rounds in which node:http takes `base[r]` ms and every other module `base[r] + extra`. */
function samples(base: readonly number[], extra: Partial<Record<ImportTarget, number>>): ImportSample[] {
  const targets: ImportTarget[] = ['node:http', '@lifeline/core', '@lifeline/node-adapter', 'on-finished'];
  return base.flatMap((ms, round) =>
    targets.map((target) => {
      const wallMs = ms + (target === 'node:http' ? 0 : (extra[target] ?? 0));
      return { round, target, wallMs, cpuMs: wallMs / 2 };
    }),
  );
}

describe('import cost summary', () => {
  it('pairs each module with node:http of the same round, so drift between rounds cancels out', () => {
    // node:http swings from 5 to 50 ms between rounds; the adapter is always exactly 4 ms slower.
    const summary = summarizeImportCost(samples([5, 50, 7, 30, 9, 45, 6], { '@lifeline/node-adapter': 4 }), config);
    const adapter = summary.find((s) => s.target === '@lifeline/node-adapter')!;
    expect(adapter.diff).toEqual({ median: 4, ci: { low: 4, high: 4 } });
    expect(adapter.diffCpu).toEqual({ median: 2, ci: { low: 2, high: 2 } });
    expect(adapter.median).toBe(13);
    expect(summary.find((s) => s.target === 'node:http')!.diff).toBeUndefined();
  });

  it('the budget is met only when the interval’s upper bound is within 15 ms', () => {
    const within = summarizeImportCost(samples([10, 12, 11, 9, 10], { '@lifeline/node-adapter': 15 }), config);
    expect(judgeImportCost({ measured: 'test', node: 'v24.21.0', rounds: 5, samples: [], summary: within }).met).toBe(true);
    const over = summarizeImportCost(samples([10, 12, 11, 9, 10], { '@lifeline/node-adapter': 15.5 }), config);
    expect(judgeImportCost({ measured: 'test', node: 'v24.21.0', rounds: 5, samples: [], summary: over }).met).toBe(false);
  });
});
