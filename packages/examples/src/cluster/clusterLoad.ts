import http from 'node:http';

const REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link startClusterLoad}. */
export interface ClusterLoadOptions {
  readonly port: number;
  readonly path: string;
  /** The file's size: a response is complete only with every byte. */
  readonly expectedBytes: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Every `abortEvery`-th request (10th, 20th, ...) leaves after its first body chunk. */
  readonly abortEvery: number;
}

/** What the load saw, counted per request, each request in exactly one of the last three. */
export interface ClusterLoadReport {
  readonly sent: number;
  /** Status 200 and every byte. */
  readonly completed: number;
  /** Left mid-body by the client on purpose. */
  readonly abortedByClient: number;
  /** Anything else: a connection error or reset, a 5xx or other non-200, a short body. */
  readonly failed: number;
  /** Why each failure failed, for the report (error code or status). */
  readonly failures: Readonly<Record<string, number>>;
}

/** A load running until stopped. */
export interface ClusterLoad {
  /** Counts so far (requests still in flight are in `sent` only). */
  snapshot(): ClusterLoadReport;
  /** Stops sending and resolves once every request sent has ended. */
  stop(): Promise<ClusterLoadReport>;
}

/**
 * Keeps `concurrency` requests running against the cluster, one per
 * connection (`agent: false`, so `Connection: close`): a client that reuses a
 * keep-alive socket the server is closing can always lose that race, whoever
 * the server is, and this load measures the server. Which requests abort is
 * fixed by their number, so two runs abort the same ones.
 */
export function startClusterLoad(options: ClusterLoadOptions): ClusterLoad {
  let sent = 0;
  let completed = 0;
  let abortedByClient = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  let stopping = false;

  const fail = (why: string) => {
    failed++;
    failures[why] = (failures[why] ?? 0) + 1;
  };

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const n = ++sent;
      const abort = n % options.abortEvery === 0;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        outcome();
      };
      const req = http.get({ host: '127.0.0.1', port: options.port, path: options.path, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        if (res.statusCode !== 200) {
          settle(() => fail(`status ${res.statusCode}`));
          res.resume();
          return;
        }
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (abort && !settled) {
            settle(() => abortedByClient++);
            req.destroy();
          }
        });
        res.on('end', () => settle(() => (bytes === options.expectedBytes ? completed++ : fail('short body'))));
        res.on('error', (error: NodeJS.ErrnoException) => settle(() => fail(error.code ?? error.message)));
      });
      req.on('error', (error: NodeJS.ErrnoException) => settle(() => fail(error.code ?? error.message)));
      // A request that stalls is a failure to report, not a reason for the run to hang.
      req.on('timeout', () => {
        settle(() => fail('no progress for 10 s'));
        req.destroy();
      });
      req.on('close', () => {
        settle(() => fail('closed without a response'));
        resolve();
      });
    });

  const lane = async () => {
    while (!stopping) await one();
  };
  const lanes = Array.from({ length: options.concurrency }, lane);
  const snapshot = (): ClusterLoadReport => ({ sent, completed, abortedByClient, failed, failures: { ...failures } });
  return {
    snapshot,
    async stop() {
      stopping = true;
      await Promise.all(lanes);
      return snapshot();
    },
  };
}
