import { describe, expect, it } from 'vitest';
import { runClusterDemo } from '../src/clusterDemo.js';

describe('node:cluster rolling restart on SIGUSR2 under a load with 10% mid-body aborts', () => {
  it('loses no request to the restart, every worker exits with an empty registry, and /metrics aggregates the workers', async () => {
    // Light on purpose: the suite runs files in parallel on 2 cores, and most of the time goes to forking workers.
    const result = await runClusterDemo({ workers: 2, fileBytes: 128 * 1024, concurrency: 4, requestsAround: 30, drainDeadline: 5_000 });
    const { load } = result;

    expect(result.restarted).toBe(2);
    expect(load.failures).toEqual({});
    expect(result.failedBecauseOfRestart).toBe(0);
    expect(load.completed + load.abortedByClient + load.failed).toBe(load.sent);
    // Every 10th request leaves mid-body, and nothing else keeps a request from completing.
    expect(load.abortedByClient).toBe(Math.floor(load.sent / 10));
    expect(load.completed).toBeGreaterThanOrEqual(60);

    // Two restarted workers, then the two that replaced them, each empty at exit.
    expect(result.exits).toHaveLength(4);
    expect(result.exits.map((e) => e.registrySize)).toEqual([0, 0, 0, 0]);
    for (const { stats } of result.exits) {
      expect(stats.released.finished + stats.released.closed + stats.released.errored).toBe(stats.opened);
    }
    // Each request reached exactly one worker's registry.
    expect(result.exits.reduce((n, e) => n + e.stats.opened, 0)).toBe(load.sent);

    expect(result.metrics).toMatch(/^lifeline_connections_released_total\{transport="http1",outcome="finished",reason="none"\} [1-9]/m);
    expect(result.metrics).toMatch(/^lifeline_connections_in_flight\{transport="http1",state="open"\} \d+$/m);
  }, 30_000);
});
