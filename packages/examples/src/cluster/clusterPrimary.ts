import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import { closeServer, listenOnLoopback } from '../loopbackServer.js';
import { isExitReport, workerMessages, type WorkerExitReport } from './clusterMessages.js';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** How many workers serve at any time. */
  readonly workers: number;
  /** The directory the workers' `/public/<file>` route serves. */
  readonly publicDir: string;
  /** What each retiring worker gives `drain` as its deadline, in ms. */
  readonly drainDeadline: number;
}

/** A running cluster, seen from the primary. */
export interface RunningCluster {
  /** The port every worker shares. */
  readonly port: number;
  /** The primary's own port, serving `/metrics` for every worker. */
  readonly metricsPort: number;
  /** Restarts the workers one at a time; resolves when the last replacement is listening and the last old worker has exited. */
  rollingRestart(): Promise<void>;
  /** Exit reports of every worker that has exited so far, in exit order. */
  exits(): readonly WorkerExitReport[];
  /** Retires every worker (drain, report, exit) and closes the metrics server. */
  close(): Promise<void>;
}

/**
 * Forks a worker running the same module under the same loader as this
 * process: `--import tsx` and the source condition, resolved from here so a
 * test runner's own flags do not matter.
 */
function setupWorkers(options: ClusterOptions): void {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('./clusterWorker.ts', import.meta.url)),
    execArgv: ['--conditions=@lifeline/source', '--import', tsx],
    silent: false,
  });
  process.env.LIFELINE_PUBLIC_DIR = options.publicDir;
  process.env.LIFELINE_DRAIN_DEADLINE = String(options.drainDeadline);
}

/** Forks one worker and resolves with it and its port once it listens. */
function forkListening(): Promise<{ worker: Worker; port: number }> {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork();
    const onExit = (code: number) => reject(new Error(`worker ${worker.process.pid} exited with ${code} before listening`));
    worker.once('exit', onExit);
    worker.once('listening', (address: { port: number }) => {
      worker.off('exit', onExit);
      resolve({ worker, port: address.port });
    });
  });
}

/** Starts the primary's side: `workers` listening workers and a `/metrics` server aggregating them. */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  setupWorkers(options);
  const exits: WorkerExitReport[] = [];
  const live = new Set<Worker>();
  const started = await Promise.all(Array.from({ length: options.workers }, forkListening));
  for (const { worker } of started) live.add(worker);
  const port = started[0]!.port;

  // prom-client's own cluster aggregation: it asks each live worker's global register over IPC.
  const aggregator = new AggregatorRegistry();
  const metricsServer = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    aggregator.clusterMetrics().then(
      (text) => res.writeHead(200, { 'content-type': aggregator.contentType }).end(text),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  const metricsPort = await listenOnLoopback(metricsServer);

  /** Asks `worker` to drain and resolves with its report once it has exited. */
  const retire = (worker: Worker): Promise<WorkerExitReport> =>
    new Promise((resolve, reject) => {
      let report: WorkerExitReport | undefined;
      worker.on('message', (message: unknown) => {
        if (!isExitReport(message)) return;
        report = message;
        worker.send({ type: workerMessages.exitAck });
      });
      worker.once('exit', () => {
        live.delete(worker);
        if (report === undefined) return reject(new Error(`worker ${worker.process.pid} exited without its report`));
        exits.push(report);
        resolve(report);
      });
      worker.send({ type: workerMessages.drain });
    });

  let restarting: Promise<void> | undefined;
  const rollingRestart = () => {
    // A second signal during a restart joins the running one instead of starting a second wave.
    restarting ??= (async () => {
      for (const old of [...live]) {
        // The replacement listens before the old worker stops accepting: the port never has fewer than N workers.
        const { worker } = await forkListening();
        live.add(worker);
        await retire(old);
      }
    })().finally(() => (restarting = undefined));
    return restarting;
  };

  return {
    port,
    metricsPort,
    rollingRestart,
    exits: () => exits,
    async close() {
      await restarting;
      await Promise.all([...live].map(retire));
      await closeServer(metricsServer);
    },
  };
}
