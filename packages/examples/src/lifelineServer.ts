import http from 'node:http';
import type { Registry, RegistryStats } from '@lifeline/core';
import { instrument, sendFile } from '@lifeline/node-adapter';
import { closeServer, listenOnLoopback, type DemoServer } from './loopbackServer.js';
import { watchResponseEndings, type ResponseEndings } from './responseEndings.js';

/** The Lifeline server, with its registry exposed for the demo to read. */
export interface LifelineServer extends DemoServer {
  readonly registry: Registry;
  /** The registry's counters: how many connections ended finished, closed or errored. */
  stats(): RegistryStats;
  /** Node's own account of how its responses ended, to check the registry against. */
  endings(): ResponseEndings;
}

/**
 * Starts the same file server as the naive one, written with Lifeline:
 * `instrument` tracks every request to its first terminal fact, whichever of
 * `finish`, `close` or an error it is, and `sendFile` destroys the file
 * stream when the client leaves. Its bookkeeping is the registry, so its
 * in-flight count is `registry.size`. Listens on 127.0.0.1, port 0.
 */
export async function startLifelineServer(filePath: string): Promise<LifelineServer> {
  const server = http.createServer();
  const { registry } = instrument(server);
  server.on('request', (_req, res) => {
    // sendFile never rejects: every failure ends up on the connection and in its result.
    void sendFile(res, filePath, { contentType: 'application/octet-stream' });
  });
  const referee = watchResponseEndings(server);
  const port = await listenOnLoopback(server);

  return {
    port,
    registry,
    inFlight: () => registry.size,
    stats: () => registry.stats(),
    endings: () => referee.counts(),
    close: () => closeServer(server),
  };
}
