import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the demos need from any server they drive, whatever its bookkeeping. */
export interface DemoServer {
  readonly port: number;
  /** Entries the server's own bookkeeping still holds for requests it has seen. */
  inFlight(): number;
  /** Resolves once every socket of the server has closed. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 with a port the OS picks: a demo must never be
 * reachable from outside this machine, nor fail because a port is taken.
 */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting and resolves when the last socket has closed and the
 * listeners of that close have run, which is the moment a leak can be told
 * from a transfer still in progress. Idle keep-alive sockets are closed at
 * once; whatever is still open after `graceMs` is cut, so a stuck client can
 * delay a demo but never hang it.
 */
export async function closeServer(server: Server, graceMs = 5_000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
  // Responses' own `close` listeners, and work they defer by a turn (the
  // node-adapter sweeps a dead socket's responses in a setImmediate), run now.
  for (let turn = 0; turn < 3; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
