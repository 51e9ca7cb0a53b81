import type { Server } from 'node:net';
import type { Registry } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { checkRegistryArgument } from './checkRegistry.js';
import { failById, handlesOf } from './connection.js';
import { checkOptionsArgument } from './invalidArgument.js';
import { sessionsOf } from './http2Sessions.js';
import { MAX_TIMER_MS } from './timerLimit.js';

/** Options of {@link drain}. */
export interface DrainOptions {
  /**
   * Stop accepting on this server (`server.close()`) and close its idle keep-alive sockets: for an http(s) server,
   * after a grace of 200 ms in which a socket accepted just before can still send its request.
   */
  server?: Server;
  /** After this many ms, still-open connections are ended as `errored` (`shutdown`). Default 10,000. */
  deadline?: number;
}

/** What {@link drain} did. */
export interface DrainResult {
  /** Connections that ended by themselves before the deadline. */
  readonly drained: number;
  /** Connections ended at the deadline. */
  readonly forced: number;
}

const drainOptionRules = {
  server: option.custom('a server with close()', (v) => typeof v === 'object' && v !== null && typeof (v as Server).close === 'function'),
  deadline: option.number({ min: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
};

/**
 * How long a socket accepted before drain, whose request has not been read yet, has to send it before drain closes
 * idle sockets. Node's http `server.close()` closes idle connections at once, and from Node 26 (nodejs/node#63470)
 * that includes such a socket: a client whose connection was accepted (or, in a cluster, handed to the worker) just
 * before the close, and whose request bytes the server reads a turn later, was reset instead of served.
 */
const PRE_REQUEST_GRACE_MS = 200;

/**
 * Stops an http(s) server accepting without closing its idle sockets yet: its own `close()` would close them at
 * once (it calls `closeIdleConnections()` first). The instance's `closeIdleConnections` is shadowed for that one
 * synchronous call, then restored; the server still closes once, with one 'close' event.
 */
function stopAcceptingHttp(server: Server & { closeIdleConnections: () => void }): void {
  const own = Object.getOwnPropertyDescriptor(server, 'closeIdleConnections');
  if (own?.configurable === false || !Object.isExtensible(server)) {
    // Cannot be shadowed (frozen or sealed by someone): close as Node does, idle sockets at once.
    server.close(() => {});
    return;
  }
  Object.defineProperty(server, 'closeIdleConnections', { value: () => {}, configurable: true, writable: true });
  try {
    server.close(() => {});
  } finally {
    if (own === undefined) delete (server as { closeIdleConnections?: unknown }).closeIdleConnections;
    else Object.defineProperty(server, 'closeIdleConnections', own);
  }
}

/**
 * Graceful shutdown: stops accepting (when given the server), waits for the
 * registry to empty, and at the deadline ends what is left as `errored` with
 * reason `shutdown` (a 503 if nothing was sent, cut otherwise). Resolves
 * once the registry is empty. Rejects only for bad arguments, before closing
 * anything: an `InvalidArgumentError` for `registry`, an `InvalidOptionsError` for options.
 *
 * @example
 * ```ts
 * process.once('SIGTERM', async () => {
 *   const { drained, forced } = await drain(registry, { server, deadline: 5_000 });
 *   console.log(`drained ${drained}, forced ${forced}`);
 * });
 * ```
 */
export function drain<M>(registry: Registry<M>, options: DrainOptions = {}): Promise<DrainResult> {
  let o: DrainOptions;
  try {
    checkRegistryArgument(registry, 'drain');
    checkOptionsArgument('drain', options);
    o = checkOptions('drain', options, drainOptionRules) ?? {};
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const deadline = o.deadline ?? 10_000;
  // Idle sockets are closed once the grace is over (and after each release from then on), not before.
  let reapIdle = (): void => {};
  if (o.server !== undefined) {
    const server = o.server as Server & { closeIdleConnections?: () => void };
    if (typeof server.closeIdleConnections === 'function') {
      stopAcceptingHttp(server as Server & { closeIdleConnections: () => void });
      const reap = () => server.closeIdleConnections?.();
      setTimeout(() => {
        reapIdle = reap;
        reap();
      }, PRE_REQUEST_GRACE_MS).unref();
    } else {
      server.close(() => {});
    }
  }
  // HTTP/2 sessions outlive server.close(): tell their clients to stop opening streams (GOAWAY),
  // idle sessions of an instrumented server included.
  const sessions = new Set<{ close(): void; closed: boolean }>(o.server === undefined ? [] : sessionsOf(o.server));
  for (const handle of handlesOf(registry).values()) {
    const session = (handle as { stream?: { session?: { close(): void; closed: boolean } } }).stream?.session;
    if (session !== undefined && !session.closed) sessions.add(session);
  }
  for (const session of sessions) session.close();
  if (registry.size === 0) return Promise.resolve({ drained: 0, forced: 0 });
  return new Promise<DrainResult>((resolve) => {
    let drained = 0;
    let forced = 0;
    let forcing = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      resolve({ drained, forced });
    };
    const off = registry.onRelease(() => {
      if (forcing) return; // counted as forced
      drained++;
      // Keep-alive sockets that just finished a response are idle now: let them go.
      reapIdle();
      if (registry.size === 0) finish();
    });
    const timer = setTimeout(() => {
      forcing = true;
      const handles = handlesOf(registry);
      for (const info of registry.list()) {
        forced++;
        failById(registry, info.id, 'shutdown', handles);
      }
      finish();
    }, deadline);
    timer.unref();
  });
}
