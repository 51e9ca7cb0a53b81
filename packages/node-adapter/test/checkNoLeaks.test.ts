import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf, sendFile } from '../src/index.js';
import { checkNoLeaks } from '../src/testing/index.js';
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

async function failure(check: Promise<unknown>): Promise<{ message: string; cause: string }> {
  try {
    await check;
  } catch (error) {
    return { message: (error as Error).message, cause: String((error as Error).cause) };
  }
  throw new Error('checkNoLeaks passed, but a leak was expected');
}

describe('checkNoLeaks (@lifeline/node-adapter/testing)', () => {
  it('finds the original leak: bookkeeping deleted on finish only, with a shrunk counterexample', async () => {
    const sessions = new Map<number, unknown>();
    const { message, cause } = await failure(
      checkNoLeaks(finishOnlyHandler(sessions), { inFlight: () => sessions.size, numRuns: 30, seed: 42, settleMs: 300 }),
    );
    expect(cause).toMatch(/leak: 0 connection\(s\) still in the registry, inFlight\(\) = [1-9]/);
    // A short, readable counterexample naming a client that left mid-body or a socket that died.
    const counterexample = /Counterexample: (.*)/.exec(message)?.[1] ?? '';
    expect(counterexample).toMatch(/"(abort|reset)-at","bytes":1\}|"dies":true/);
    expect(JSON.parse(counterexample)[0].length).toBeLessThanOrEqual(2);
  }, 60_000);

  // The usual fix leaks only where Node gives queued pipelined responses no close (20 and 22).
  it.runIf(!nodePaths.queuedResponseGetsClose)('finds that listening to close too still leaks when a pipelined socket dies (Node 20, 22)', async () => {
    const sessions = new Map<number, unknown>();
    const { message, cause } = await failure(
      checkNoLeaks(finishOrCloseHandler(sessions), { inFlight: () => sessions.size, numRuns: 60, seed: 42, settleMs: 300 }),
    );
    expect(cause).toMatch(/leak: 0 connection\(s\) still in the registry, inFlight\(\) = [1-9]/);
    expect(message).toMatch(/"kind":"pipelined"/);
  }, 60_000);

  it.runIf(nodePaths.queuedResponseGetsClose)('passes the finish + close handler from Node 24 on, where queued pipelined responses get close', async () => {
    const sessions = new Map<number, unknown>();
    const report = await checkNoLeaks(finishOrCloseHandler(sessions), { inFlight: () => sessions.size, numRuns: 60, seed: 42, settleMs: 300 });
    expect(report.runs).toBe(60);
    expect(sessions.size).toBe(0);
    expect(report.outcomes.closed).toBeGreaterThan(0);
  }, 60_000);

  it('passes a handler that frees its bookkeeping on connection.onEnd, and reports what it exercised', async () => {
    const sessions = new Map<number, unknown>();
    const report = await checkNoLeaks(lifelineHandler(sessions), { inFlight: () => sessions.size, numRuns: 30, seed: 42 });
    expect(report.runs).toBe(30);
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
    const { message, cause } = await failure(
      checkNoLeaks((_req, res) => void fs.createReadStream(file).pipe(res), { numRuns: 40, seed: 7, settleMs: 300 }),
    );
    expect(cause).toContain(`file descriptor(s) opened during the run still open after every connection ended: ${file}`);
    expect(message).toMatch(/Counterexample/);
  }, 60_000);

  it('passes the same download served with sendFile', async () => {
    const report = await checkNoLeaks((_req, res) => void sendFile(res, file), { numRuns: 40, seed: 7 });
    expect(report.runs).toBe(40);
    expect(report.outcomes.closed).toBeGreaterThan(0);
  }, 60_000);
});
