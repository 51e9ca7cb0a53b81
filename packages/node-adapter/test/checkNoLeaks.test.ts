import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf, sendFile } from '../src/index.js';
import { checkNoLeaks, EndingNotExercisedError, LeakError } from '../src/testing/index.js';
import { nodePaths } from './helpers/nodePaths.js';

const BODY = Buffer.alloc(4 * 1024 * 1024, 'b');

/** The original framework's bug: bookkeeping deleted on `finish` only. */
function finishOnlyHandler(sessions: Map<number, unknown>): http.RequestListener {
  let next = 0;
  return (_req, res) => {
    const id = next++;
    sessions.set(id, { started: Date.now() });
    res.on('finish', () => sessions.delete(id));
    res.end(BODY);
  };
}

/** The usual fix: `close` too. On Node 20 and 22 it still leaks pipelined responses whose socket dies (Node emits neither). */
function finishOrCloseHandler(sessions: Map<number, unknown>): http.RequestListener {
  let next = 0;
  return (_req, res) => {
    const id = next++;
    sessions.set(id, {});
    res.on('finish', () => sessions.delete(id));
    res.on('close', () => sessions.delete(id));
    res.end(BODY);
  };
}

/** Bookkeeping freed by Lifeline's end of the connection. */
function lifelineHandler(sessions: Map<number, unknown>): http.RequestListener {
  let next = 0;
  return (req, res) => {
    const id = next++;
    sessions.set(id, {});
    connectionOf(req)!.onEnd(() => sessions.delete(id));
    res.end(BODY);
  };
}

async function failure(check: Promise<unknown>): Promise<LeakError> {
  try {
    await check;
  } catch (error) {
    if (error instanceof LeakError) return error;
    throw error;
  }
  throw new Error('checkNoLeaks passed, but a leak was expected');
}

/** Enough time to shrink fully: these tests pin the shrunk counterexample, not the default budget. */
const FULL = { timeBudgetMs: 60_000 };

describe('checkNoLeaks (@lifeline/node-adapter/testing)', () => {
  it('finds the original leak: bookkeeping deleted on finish only, with a shrunk counterexample', async () => {
    const sessions = new Map<number, unknown>();
    const { message, code } = await failure(
      checkNoLeaks(finishOnlyHandler(sessions), { inFlight: () => sessions.size, paths: ['/download'], numRuns: 30, seed: 42, settleMs: 300, ...FULL }),
    );
    expect(code).toBe('LIFELINE_LEAK');
    // The reason in plain words: how many entries remained, and that Lifeline itself released everything.
    expect(message).toMatch(/^checkNoLeaks found a leak: [1-9]\d* (entry|entries) remained in your inFlight\(\) count \(\d+ before the run, \d+ after\), 300 ms after every client had left\.\n/);
    expect(message).not.toMatch(/never released by Lifeline/);
    // A short counterexample, one line per client, naming the path and a client that left mid-body or a socket that died.
    const clients = message.split('\n').filter((line) => /^  \d\. /.test(line));
    expect(clients.length).toBeLessThanOrEqual(2);
    expect(clients.join('\n')).toMatch(/GET \/download (and (closed|reset) its socket.* after receiving 1 byte\(s\)|at once on one socket, then closed the socket)/);
    expect(message).toMatch(/Replay it with \{ seed: 42, replayPath: "[\d:]+" \}/);
  }, 60_000);

  // The usual fix leaks only where Node gives queued pipelined responses no close (20 and 22).
  it.runIf(!nodePaths.queuedResponseGetsClose)('finds that listening to close too still leaks when a pipelined socket dies (Node 20, 22)', async () => {
    const sessions = new Map<number, unknown>();
    const { message } = await failure(
      checkNoLeaks(finishOrCloseHandler(sessions), { inFlight: () => sessions.size, numRuns: 60, seed: 42, settleMs: 300, ...FULL }),
    );
    expect(message).toMatch(/remained in your inFlight\(\) count/);
    expect(message).toMatch(/a pipelining client sent GET \/, GET \/.* at once on one socket, then closed the socket/);
  }, 60_000);

  it.runIf(nodePaths.queuedResponseGetsClose)('passes the finish + close handler from Node 24 on, where queued pipelined responses get close', async () => {
    const sessions = new Map<number, unknown>();
    const report = await checkNoLeaks(finishOrCloseHandler(sessions), { inFlight: () => sessions.size, numRuns: 60, seed: 42, settleMs: 300, ...FULL });
    expect(report.runs).toBe(60);
    expect(sessions.size).toBe(0);
    expect(report.outcomes.closed).toBeGreaterThan(0);
  }, 60_000);

  it('passes a handler that frees its bookkeeping on connection.onEnd, and reports what it exercised', async () => {
    const sessions = new Map<number, unknown>();
    const report = await checkNoLeaks(lifelineHandler(sessions), { inFlight: () => sessions.size, numRuns: 30, seed: 42, ...FULL });
    expect(report.runs).toBe(30);
    expect(report.interrupted).toBe(false);
    expect(report.clients['abort-at'] + report.clients['reset-at']).toBeGreaterThan(0);
    expect(report.outcomes.finished).toBeGreaterThan(0);
    expect(report.outcomes.closed).toBeGreaterThan(0);
    expect(report.connections).toBe(report.outcomes.finished + report.outcomes.closed + report.outcomes.errored);
  }, 60_000);
});

describe('checkNoLeaks: files a handler leaves open', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-checknoleaks-'));
    file = path.join(dir, 'download.bin');
    fs.writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 'd'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.runIf(process.platform === 'linux')('finds the naive createReadStream().pipe(res): a client that leaves mid-body leaves the file open', async () => {
    const { message } = await failure(
      checkNoLeaks((_req, res) => void fs.createReadStream(file).pipe(res), { numRuns: 40, seed: 7, settleMs: 300, ...FULL }),
    );
    expect(message).toContain(`checkNoLeaks found a leak: 1 file opened during the run was still open 300 ms after every connection had ended: ${file}.`);
    expect(message).toMatch(/\n  1\. a (pipelining |keep-alive )?client sent GET \//);
  }, 60_000);

  it('passes the same download served with sendFile', async () => {
    const report = await checkNoLeaks((_req, res) => void sendFile(res, file), { numRuns: 40, seed: 7, ...FULL });
    expect(report.runs).toBe(40);
    expect(report.outcomes.closed).toBeGreaterThan(0);
  }, 60_000);
});

describe('checkNoLeaks: defaults and guidance', () => {
  it('finds the original leak with default options inside a test runner\'s default 5 s timeout', async () => {
    const sessions = new Map<number, unknown>();
    const started = Date.now();
    const error = await failure(checkNoLeaks(finishOnlyHandler(sessions), { inFlight: () => sessions.size }));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(5_000);
    expect(error.message).toMatch(/remained in your inFlight\(\) count/);
    expect(typeof error.seed).toBe('number');
  }, 20_000);

  it('replays the reported counterexample from the LeakError\'s seed and replayPath', async () => {
    const sessions = new Map<number, unknown>();
    const first = await failure(checkNoLeaks(finishOnlyHandler(sessions), { inFlight: () => sessions.size, seed: 3, settleMs: 300, ...FULL }));
    const clientsOf = (e: LeakError) => e.message.split('\n').filter((line) => /^  \d\. /.test(line));
    const replayed = await failure(
      checkNoLeaks(finishOnlyHandler(sessions), { inFlight: () => sessions.size, seed: first.seed, replayPath: first.replayPath, settleMs: 300, ...FULL }),
    );
    expect(clientsOf(replayed)).toEqual(clientsOf(first));
  }, 60_000);

  // 16 KB fits the socket's send buffer at once, so every response is complete before any client can leave.
  it('fails a handler that never meets a client leaving mid-body (a body written in one synchronous res.end()), saying what was exercised', async () => {
    const big = Buffer.alloc(16 * 1024, 'x');
    let error: unknown;
    try {
      await checkNoLeaks((_req, res) => res.end(big), { numRuns: 15, seed: 1, ...FULL });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EndingNotExercisedError);
    expect((error as EndingNotExercisedError).code).toBe('LIFELINE_ENDING_NOT_EXERCISED');
    expect((error as EndingNotExercisedError).missing).toEqual(['closed']);
    const message = (error as Error).message;
    expect(message).toMatch(/^checkNoLeaks found no leak, but no connection ended as "closed", so that path of your handler was never tested \(\d+ connections in 15 runs ended as \{"finished":\d+,"closed":0,"errored":0\}\)\./);
    expect(message).toMatch(/[1-9]\d* clients? left early, but each found the response already complete/);
    expect(message).toContain("expectOutcomes: ['finished']");
  }, 60_000);

  it('passes that handler when told a disconnect path is not expected, and reports closed: 0 with the clients that left', async () => {
    const big = Buffer.alloc(16 * 1024, 'x');
    const report = await checkNoLeaks((_req, res) => res.end(big), { numRuns: 15, seed: 1, expectOutcomes: ['finished'], ...FULL });
    expect(report.outcomes.closed).toBe(0);
    expect(report.clients['abort-before-headers'] + report.clients['abort-at'] + report.clients['reset-at']).toBeGreaterThan(0);
  }, 60_000);

  it('says a run failed, not that it found a leak, when the check itself throws (here: inFlight())', async () => {
    const error = await failure(
      checkNoLeaks(lifelineHandler(new Map()), {
        inFlight: () => {
          throw new Error('the session store is down');
        },
        numRuns: 3,
      }),
    );
    expect(error.message).toMatch(/^checkNoLeaks: a run failed before its leaks could be judged: Error: the session store is down\.\n/);
    expect(error.message).not.toMatch(/found a leak/);
  }, 20_000);

  it('stops at timeBudgetMs and says so in the report', async () => {
    // expectOutcomes: [] because a run or two may not include a client leaving mid-body; the budget is the point.
    const report = await checkNoLeaks(lifelineHandler(new Map()), { numRuns: 10_000, timeBudgetMs: 300, expectOutcomes: [] });
    expect(report.interrupted).toBe(true);
    expect(report.runs).toBeGreaterThan(0);
    expect(report.runs).toBeLessThan(10_000);
  }, 20_000);
});
