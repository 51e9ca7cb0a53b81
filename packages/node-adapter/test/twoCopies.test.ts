// Two installed copies of the package (two versions in one node_modules tree, or a bundled and an
// unbundled one) must agree on which object is a request's connection and on which errors are whose.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as core from '@lifeline/core';
import * as first from '../src/index.js';
import { rawClient, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

/** A second evaluation of the adapter and of core, as a second installed copy would be. */
async function secondCopy() {
  vi.resetModules();
  return { adapter: await import('../src/index.js'), core: await import('@lifeline/core') };
}

describe('two installed copies of the package', () => {
  // Evaluated once, before the tests (not inside one): under pnpm test:mutation the adapter's
  // module-level code then stays static (see vitest.mutation.config.ts).
  let second: Awaited<ReturnType<typeof secondCopy>>;
  beforeAll(async () => {
    second = await secondCopy();
  });

  it("the second copy's connectionOf finds the connection the first copy tracks, and its error classes recognise the first copy's abort reason", async () => {
    // Without this the test would prove nothing: the copies must be distinct modules.
    expect(second.adapter.connectionOf).not.toBe(first.connectionOf);
    expect(second.adapter.ConnectionClosedError).not.toBe(first.ConnectionClosedError);
    expect(second.core.LifelineError).not.toBe(core.LifelineError);

    const seen: { byFirst?: first.Connection | undefined; bySecond?: first.Connection | undefined } = {};
    const t = await startHttp1((req) => {
      seen.byFirst = first.connectionOf(req);
      seen.bySecond = second.adapter.connectionOf(req);
      seen.byFirst?.signal; // created before the end, so the reason is the one aborted with
      // never responds
    });
    const client = await rawClient(t.port);
    try {
      client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => seen.byFirst !== undefined, 'the handler');
      client.destroy();
      await waitForReleases(t, 1);
      expect(seen.bySecond).toBe(seen.byFirst);
      const reason: unknown = seen.byFirst!.signal.reason;
      expect(reason).toBeInstanceOf(first.ConnectionClosedError);
      expect(reason).toBeInstanceOf(second.adapter.ConnectionClosedError);
      expect(reason).toBeInstanceOf(second.core.LifelineError);
      expect(reason instanceof second.adapter.ConnectionErroredError).toBe(false);
    } finally {
      client.destroy();
      await t.close();
    }
  });

  it("the second copy's wrapHandler records a handler failure on the first copy's connection", async () => {
    const t = await startHttp1(
      second.adapter.wrapHandler(
        () => {
          throw new Error('boom');
        },
        { onHandlerError: () => {} },
      ),
    );
    const client = await rawClient(t.port);
    try {
      client.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => [c.outcome, c.event.type === 'ERROR' ? c.event.reason : undefined])).toEqual([['errored', 'handler-error']]);
    } finally {
      client.destroy();
      await t.close();
    }
  });
});
