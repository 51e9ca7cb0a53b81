import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { wrapHandler, type Connection } from '../src/index.js';
import { rawRequest } from '../src/testing/index.js';
import { get, rawClient, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

// A client that leaves cancels the handler's work through connection.signal, exactly as the README
// example does; the rejection that follows is the client leaving, not a handler failure.

async function leaveMidRequest(handler: Parameters<typeof wrapHandler>[0]) {
  const reported: unknown[] = [];
  const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  const t = await startHttp1(wrapHandler(handler, { onHandlerError: (error) => reported.push(error) }));
  try {
    const c = await rawClient(t.port);
    c.write(rawRequest('/report', false));
    await waitFor(() => t.registry.size === 1, 'the request');
    c.destroy();
    await waitForReleases(t, 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the handler's rejection land
    return { release: t.releases[0]!, reported, logged: logged.mock.calls.length };
  } finally {
    logged.mockRestore();
    await t.close();
  }
}

describe('wrapHandler: client departures are not handler failures', () => {
  it('work awaiting timers/promises with connection.signal (AbortError whose cause is the reason) → closed, nothing reported', async () => {
    const r = await leaveMidRequest(async (_req, res, connection) => {
      await delay(5_000, undefined, { signal: connection!.signal });
      res.end('too late');
    });
    expect(r.release).toMatchObject({ outcome: 'closed', event: { type: 'CLOSE' } });
    expect(r.reported).toEqual([]);
    expect(r.logged).toBe(0);
  });

  it('work rejecting with the signal reason itself (as fetch does) → closed, nothing reported', async () => {
    const r = await leaveMidRequest(async (_req, _res, connection) => {
      const signal = connection!.signal;
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    expect(r.release.outcome).toBe('closed');
    expect(r.reported).toEqual([]);
  });

  it('a wrapped error whose cause is the abort → not reported', async () => {
    const r = await leaveMidRequest(async (_req, _res, connection) => {
      const signal = connection!.signal;
      await new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(new Error('query cancelled', { cause: signal.reason }))),
      );
    });
    expect(r.reported).toEqual([]);
  });

  it("an AbortError of the work's own making, without the reason as its cause, after the client left → not reported", async () => {
    const r = await leaveMidRequest(async (_req, _res, connection) => {
      const signal = connection!.signal;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw new DOMException('query cancelled by the driver', 'AbortError');
    });
    expect(r.release.outcome).toBe('closed');
    expect(r.reported).toEqual([]);
  });

  it('an error whose cause chain loops back on itself, after the client left → reported (the search of the chain ends)', async () => {
    const looping = new Error('retry gave up');
    looping.cause = new Error('attempt failed', { cause: looping });
    const r = await leaveMidRequest(async (_req, _res, connection) => {
      const signal = connection!.signal;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw looping;
    });
    expect(r.release.outcome).toBe('closed');
    expect(r.reported).toEqual([looping]);
  });

  it("the abort is recognised as deep as the 8th link of a cause chain (the error itself the 1st), not at the 9th", async () => {
    /** The signal's reason wrapped so that it is link `link` of the chain. */
    const abortAtLink = (link: number) => async (_req: unknown, _res: unknown, connection: Connection | undefined) => {
      const signal = connection!.signal;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      let error: unknown = signal.reason;
      for (let i = link; i > 1; i--) error = new Error(`layer ${i - 1}`, { cause: error });
      throw error;
    };
    const atEighth = await leaveMidRequest(abortAtLink(8));
    const atNinth = await leaveMidRequest(abortAtLink(9));
    expect(atEighth.reported).toEqual([]);
    expect(atNinth.reported.map((e) => (e as Error).message)).toEqual(['layer 1']);
    expect([atEighth.release.outcome, atNinth.release.outcome]).toEqual(['closed', 'closed']);
  });

  it('an unrelated error thrown after the client left is still reported (the outcome stays closed)', async () => {
    const r = await leaveMidRequest(async (_req, _res, connection) => {
      const signal = connection!.signal;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw new Error('bug in cleanup');
    });
    expect(r.release.outcome).toBe('closed');
    expect(r.reported.map((e) => (e as Error).message)).toEqual(['bug in cleanup']);
  });

  it("an AbortError from the handler's own cancellation while the client is still there is a failure: reported, 500, errored (handler-error)", async () => {
    const reported: unknown[] = [];
    const abortedWhenRead: boolean[] = [];
    const t = await startHttp1(
      wrapHandler(
        async (req, _res, connection) => {
          // One handler reads connection.signal (created, not aborted), the other never does.
          if (req.url === '/signal-read') abortedWhenRead.push(connection!.signal.aborted);
          throw new DOMException('own deadline passed', 'AbortError');
        },
        { onHandlerError: (error) => reported.push(error) },
      ),
    );
    try {
      const responses = [await get(t.port, '/signal-read'), await get(t.port, '/signal-unread')];
      await waitForReleases(t, 2);
      expect(abortedWhenRead).toEqual([false]);
      expect(responses.map((r) => r.status)).toEqual([500, 500]);
      expect(reported.map((e) => (e as Error).message)).toEqual(['own deadline passed', 'own deadline passed']);
      expect(t.releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([
        ['errored', 'handler-error'],
        ['errored', 'handler-error'],
      ]);
    } finally {
      await t.close();
    }
  });
});
