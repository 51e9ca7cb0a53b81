/**
 * The load generator, run in the parent: Node's own http client over a
 * keep-alive Agent (the way service-to-service traffic looks), plus raw TCP
 * clients for the two things a polite client never does: leaving mid-body,
 * and holding thousands of requests open. Every loop is bounded by a count
 * and a deadline, and only ever talks to 127.0.0.1.
 */
import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { PATHS } from './protocol.js';

const HOST = '127.0.0.1';

export interface LoadOptions {
  readonly port: number;
  readonly path: string;
  /** Requests to send, aborting ones included. */
  readonly count: number;
  readonly concurrency: number;
  readonly agent: Agent;
  /** Request `i` with `i % abortEvery === abortEvery - 1` is a client that leaves mid-body (0: none). So 10 means exactly 10%. */
  readonly abortEvery?: number;
  /** The whole run is cut off here; cut-off requests count as failed. */
  readonly deadlineMs: number;
}

export interface LoadResult {
  /** Responses received whole with status 200. */
  readonly completed: number;
  /** Clients that received the first part of the body and then left. */
  readonly aborted: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly ms: number;
}

export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
}

const ABORT_REQUEST = `GET ${PATHS.abort} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { port, path, count, concurrency, agent, abortEvery = 0, deadlineMs } = options;
  const started = performance.now();
  let next = 0;
  let completed = 0;
  let aborted = 0;
  let failed = 0;
  let firstError: string | undefined;
  let timedOut = false;
  const rawSockets = new Set<Socket>();
  const fail = (why: string) => {
    failed++;
    firstError ??= why;
  };
  const deadline = setTimeout(() => {
    timedOut = true;
    fail(`deadline of ${deadlineMs} ms passed`);
    agent.destroy();
    for (const socket of rawSockets) socket.destroy();
  }, deadlineMs);

  const getOne = () =>
    new Promise<void>((resolve) => {
      const req = get({ agent, host: HOST, port, path }, (res) => {
        res.on('close', () => {
          if (res.complete && res.statusCode === 200) completed++;
          else fail(`incomplete response (status ${res.statusCode})`);
          resolve();
        });
        res.resume();
      });
      req.on('error', (error) => {
        fail(error.message);
        resolve();
      });
    });

  const abortOne = () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: HOST, port, noDelay: true });
      rawSockets.add(socket);
      let gotData = false;
      socket.write(ABORT_REQUEST);
      socket.once('data', () => {
        gotData = true;
        socket.destroy();
      });
      socket.on('error', (error) => fail(`aborting client: ${error.message}`));
      socket.on('close', () => {
        rawSockets.delete(socket);
        if (gotData) aborted++;
        else fail('aborting client received nothing');
        resolve();
      });
    });

  const worker = async () => {
    while (next < count && !timedOut) {
      const i = next++;
      if (abortEvery > 0 && i % abortEvery === abortEvery - 1) await abortOne();
      else await getOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  clearTimeout(deadline);
  return { completed, aborted, failed, firstError, ms: performance.now() - started };
}

/**
 * Opens `count` raw sockets that each send one request the server holds
 * unanswered. Opened in batches, each awaited until `accepted()` reports the
 * server has them, so the listen backlog never overflows (a dropped SYN costs a 1 s retry).
 */
export async function openHeldRequests(
  port: number,
  count: number,
  accepted: () => Promise<number>,
  options: { batch: number; deadlineMs: number },
): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const deadline = Date.now() + options.deadlineMs;
  const request = `GET ${PATHS.hold} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  try {
    while (sockets.length < count) {
      const target = Math.min(count, sockets.length + options.batch);
      while (sockets.length < target) {
        const socket = connect({ host: HOST, port });
        socket.on('error', () => {}); // the server's end is what is measured; a reset here shows as a short count
        socket.write(request);
        sockets.push(socket);
      }
      while ((await accepted()) < target) {
        if (Date.now() > deadline) throw new Error(`server holds fewer than ${target} requests after ${options.deadlineMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return sockets;
  } catch (error) {
    for (const socket of sockets) socket.destroy();
    throw error;
  }
}
