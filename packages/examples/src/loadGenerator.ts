import http from 'node:http';
import type { Socket } from 'node:net';

/** Options of {@link startLoad}. */
export interface LoadOptions {
  /** Port on 127.0.0.1: the generator never talks to anything but loopback. */
  port: number;
  /** Requests to send, at most. */
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Share of requests (0..1) whose client disconnects mid-transfer; spread evenly, so the count is exact. */
  abortShare: number;
  /** Body bytes an aborting client reads before it cuts its socket. Default 64 KiB. */
  abortAfterBytes?: number;
  /** The path of request `index`. Default `/`. */
  path?: (index: number) => string;
  /** No request starts after this many ms, and any still running then is cut. Default 30,000. */
  timeBudgetMs?: number;
  /** A single request running longer than this is cut and counted as failed. Default 10,000. */
  requestTimeoutMs?: number;
}

/** What the clients did, from their side of the wire. */
export interface LoadReport {
  /** Requests started. */
  readonly sent: number;
  /** Requests whose full body arrived. */
  readonly completed: number;
  /** Requests whose client read part of the body and then cut the socket, as planned. */
  readonly aborted: number;
  /** Requests that failed otherwise: connection errors, per-request timeouts, bodies cut short by the server. */
  readonly failed: number;
  /** Requests cut because the time budget ran out. */
  readonly cutAtBudget: number;
  /** Requests never started because the time budget ran out. */
  readonly unsent: number;
  readonly bytesReceived: number;
  readonly durationMs: number;
}

/** A load that is running. */
export interface RunningLoad {
  /** Requests that have ended so far, however they ended. */
  settled(): number;
  /** Resolves when every request has ended and the client's sockets have been told to close. Never rejects. */
  readonly done: Promise<LoadReport>;
}

type Ending = 'completed' | 'aborted' | 'failed' | 'cut';

/**
 * Whether request `index` of `total` is one of the `aborting` ones. Integer
 * arithmetic spreads them evenly over the run and makes their number exact,
 * so two servers driven with the same options see the very same aborts.
 */
function isAborting(index: number, total: number, aborting: number): boolean {
  return Math.floor(((index + 1) * aborting) / total) > Math.floor((index * aborting) / total);
}

/**
 * Drives a server on 127.0.0.1 with Node's own http client, bounded both in
 * requests and in time, so a demo ends even against a server that stalls. A
 * share of the clients behave like the ones that caused the original leak:
 * they read part of the body and then drop the connection, half of them
 * with a plain `destroy()`, half with a TCP reset.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const abortAfterBytes = options.abortAfterBytes ?? 64 * 1024;
  const timeBudgetMs = options.timeBudgetMs ?? 30_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const pathOf = options.path ?? (() => '/');
  const total = options.requests;
  const aborting = Math.round(total * Math.min(1, Math.max(0, options.abortShare)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const running = new Set<http.ClientRequest>();
  const tally: Record<Ending, number> = { completed: 0, aborted: 0, failed: 0, cut: 0 };
  let next = 0;
  let abortsSoFar = 0;
  let bytesReceived = 0;
  let overBudget = false;
  const startedAt = performance.now();

  const budget = setTimeout(() => {
    overBudget = true;
    for (const req of running) req.destroy();
  }, timeBudgetMs);
  budget.unref();

  const send = (index: number): Promise<Ending> =>
    new Promise<Ending>((resolve) => {
      const abortsHere = isAborting(index, total, aborting);
      const reset = abortsHere && abortsSoFar++ % 2 === 1;
      let ending: Ending | undefined;
      let answered = false;
      const settle = (how: Ending) => {
        if (ending !== undefined) return;
        ending = overBudget && how !== 'completed' ? 'cut' : how;
        running.delete(req);
        resolve(ending);
      };
      const req = http.get({ host: '127.0.0.1', port: options.port, path: pathOf(index), agent }, (res) => {
        answered = true;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          bytesReceived += chunk.length;
          if (abortsHere && bytes >= abortAfterBytes && ending === undefined) {
            const socket = res.socket as Socket;
            if (reset) socket.resetAndDestroy();
            else socket.destroy();
            settle('aborted');
          }
        });
        res.on('end', () => settle(res.complete ? 'completed' : 'failed'));
        // A cut socket makes the response emit 'error' (aborted); it is already accounted for.
        res.on('error', () => settle('failed'));
        res.on('close', () => settle('failed'));
      });
      running.add(req);
      req.setTimeout(requestTimeoutMs, () => req.destroy());
      req.on('error', () => settle('failed'));
      req.on('close', () => {
        // A response that never came (connection refused, reset before headers).
        if (!answered) settle('failed');
      });
    });

  const worker = async () => {
    while (next < total && !overBudget) {
      const ending = await send(next++);
      tally[ending]++;
    }
  };

  const done = Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker)).then(() => {
    clearTimeout(budget);
    agent.destroy();
    return {
      sent: next,
      completed: tally.completed,
      aborted: tally.aborted,
      failed: tally.failed,
      cutAtBudget: tally.cut,
      unsent: total - next,
      bytesReceived,
      durationMs: performance.now() - startedAt,
    } satisfies LoadReport;
  });

  return { settled: () => tally.completed + tally.aborted + tally.failed + tally.cut, done };
}
