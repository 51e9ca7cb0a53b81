/**
 * One worker of the cluster example: the original framework's file route
 * (`/public/<file>`, streamed from disk) on a shared port, instrumented, with
 * its registry exported to prom-client's global register so the primary's
 * `AggregatorRegistry` sees it. The primary's `drain` message retires it:
 * stop accepting, drain with a deadline, report, exit.
 */
import http from 'node:http';
import { basename, join } from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import { drain, instrument, sendFile, startWatchdog } from '@lifeline/node-adapter';
import { collectPrometheusMetrics } from '@lifeline/node-adapter/prometheus';
import { workerMessages, type WorkerExitReport } from './clusterMessages.js';

const publicDir = process.env.LIFELINE_PUBLIC_DIR;
const deadline = Number(process.env.LIFELINE_DRAIN_DEADLINE ?? 10_000);
if (publicDir === undefined) throw new Error('LIFELINE_PUBLIC_DIR is not set: this module is forked by the cluster primary');

// prom-client's worker side answers the primary's AggregatorRegistry only once an AggregatorRegistry exists here too.
new AggregatorRegistry();

const server = http.createServer();
const { registry } = instrument(server, { journalSize: 0 });
const collector = collectPrometheusMetrics(registry);
// The watchdog is the supervisor-independent safety net: a stalled reader cannot pin a worker forever.
const watchdog = startWatchdog(registry, { idleTimeout: 30_000, onStale: collector.onStale });

server.on('request', (req, res) => {
  if (req.url?.startsWith('/public/') === true) {
    // basename: the route serves the directory's files and nothing above it.
    void sendFile(res, join(publicDir, basename(req.url.slice('/public/'.length))), { contentType: 'application/octet-stream' });
  } else {
    res.writeHead(404).end();
  }
});

process.on('message', (message: unknown) => {
  const type = (message as { type?: unknown } | null)?.type;
  // The primary acknowledges the report only after it has handled this worker's close of the shared port (the
  // channel keeps order): any connection it handed over before that has reached this worker and been handed
  // back by Node's cluster code. Exiting earlier would strand such a connection in the primary.
  if (type === workerMessages.exitAck) process.exit(0);
  if (type !== workerMessages.drain) return;
  void (async () => {
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    const { drained, forced } = await drain(registry, { server, deadline });
    // The registry is empty; the server's 'close' also waits for sockets accepted whose request is not parsed yet.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, deadline).unref())]);
    watchdog.stop();
    const report: WorkerExitReport = { type: workerMessages.exitReport, pid: process.pid, registrySize: registry.size, drained, forced, stats: registry.stats() };
    process.send!(report);
  })();
});

// Port 0 on every worker: cluster shares one handle per address and port, so they all get the same port.
server.listen(0, '127.0.0.1');
