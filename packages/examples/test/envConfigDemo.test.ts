import { describe, expect, it } from 'vitest';
import { runEnvConfigDemo } from '../src/envConfigDemo.js';

describe('runEnvConfigDemo: per-environment config files under an aborting load', () => {
  it('releases every request once and leaves the registry empty', async () => {
    const requests = 120;
    const result = await runEnvConfigDemo({ requests, abortShare: 0.25, concurrency: 10, configBytes: 512 * 1024 });
    const { finished, closed, errored } = result.stats.released;
    expect(result.registrySize).toBe(0);
    expect(result.stats.opened).toBe(requests);
    expect(finished + closed + errored).toBe(requests);
    expect(closed).toBeGreaterThan(0);
    expect(closed).toBeGreaterThanOrEqual(result.endings.closedWithoutFinish);

    const perEnvironment = Object.values(result.byEnvironment).reduce((sum, c) => sum + c.finished + c.closed + c.errored, 0);
    expect(perEnvironment).toBe(requests);
    // "preview" has no file: answered 404 in full, so never closed early.
    expect(result.byEnvironment.preview).toMatchObject({ closed: 0, errored: 0 });
    expect(result.byEnvironment.preview!.finished).toBeGreaterThan(0);
  });
});
