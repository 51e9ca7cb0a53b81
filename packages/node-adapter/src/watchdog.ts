import type { ConnectionId, ConnectionInfo, Registry } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { checkRegistryArgument } from './checkRegistry.js';
import { failById, handlesOf, kBytesMoved } from './connection.js';
import { checkOptionsArgument } from './invalidArgument.js';
import { MAX_TIMER_MS } from './timerLimit.js';

/** Options of {@link startWatchdog}; `M` is the registry's metadata type. */
export interface WatchdogOptions<M = unknown> {
  /**
   * A connection is stale when, for this many ms, the registry got no event
   * for it and its transport moved no byte (the socket's, or for HTTP/2 the
   * session socket's, bytes read plus bytes written out, read at each sweep).
   * So a handler streaming with plain `res.write` stays alive as long as its
   * bytes move, and a reader that stopped reading is ended. The byte history
   * starts at the first sweep that sees a connection quiet for one interval,
   * so an idle connection is ended between `idleTimeout` and about
   * `idleTimeout` + two intervals after its last event.
   */
  idleTimeout?: number;
  /** A connection open for this many ms is stale, whatever it does. */
  maxAge?: number;
  /** How often to sweep, in ms. Default: a quarter of the smallest timeout, at least 10 ms. */
  interval?: number;
  /** Told about each stale connection before it is ended. */
  onStale?: (connection: ConnectionInfo<M>) => void;
}

/** A running watchdog. */
export interface Watchdog {
  /** Sweeps now; returns how many stale connections were ended. */
  sweep(): number;
  stop(): void;
}


const watchdogOptionRules = {
  idleTimeout: option.number({ above: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  maxAge: option.number({ above: 0, max: MAX_TIMER_MS, of: 'milliseconds' }),
  interval: option.number({ min: 1, max: MAX_TIMER_MS, of: 'milliseconds' }),
  onStale: option.function('a function (connection) => void'),
};

const needsATimeout = (o: Readonly<Record<string, unknown>>) =>
  o.idleTimeout === undefined && o.maxAge === undefined ? [{ option: 'idleTimeout', message: 'give "idleTimeout" or "maxAge" (or both)' }] : [];

/**
 * Ends stale connections as `errored` with reason `timeout`: answered with a
 * 503 if nothing was sent yet, cut otherwise. Its timer is `unref()`ed, so it
 * never keeps a process alive. Its arguments are checked at the call (an
 * `InvalidArgumentError` for `registry`, an `InvalidOptionsError` for options),
 * never later from the timer.
 *
 * @example
 * ```ts
 * const { registry } = instrument(server);
 * const watchdog = startWatchdog(registry, { idleTimeout: 30_000 });
 * server.on('close', () => watchdog.stop());
 * ```
 */
export function startWatchdog<M>(registry: Registry<M>, options: WatchdogOptions<M>): Watchdog {
  checkRegistryArgument(registry, 'startWatchdog');
  checkOptionsArgument('startWatchdog', options);
  const o: WatchdogOptions<M> = checkOptions('startWatchdog', options, watchdogOptionRules, needsATimeout) ?? {};
  const smallest = Math.min(o.idleTimeout ?? Infinity, o.maxAge ?? Infinity);
  const interval = o.interval ?? Math.min(MAX_TIMER_MS, Math.max(10, Math.floor(smallest / 4)));
  const idle = o.idleTimeout === undefined ? undefined : idleness(registry, o.idleTimeout, Math.min(interval, o.idleTimeout));
  const sweep = (): number => {
    const stale = new Map<number, ConnectionInfo<M>>();
    if (idle !== undefined) for (const c of idle.find()) stale.set(c.id, c);
    if (o.maxAge !== undefined) for (const c of registry.list({ olderThan: o.maxAge })) stale.set(c.id, c);
    const handles = stale.size === 0 ? undefined : handlesOf(registry);
    for (const info of stale.values()) {
      try {
        (o.onStale as WatchdogOptions<M>['onStale'])?.(info);
      } catch (error) {
        console.error('lifeline: watchdog onStale threw:', error);
      }
      failById(registry, info.id, 'timeout', handles);
    }
    return stale.size;
  };
  const timer = setInterval(sweep, interval);
  timer.unref();
  return {
    sweep,
    stop: () => {
      clearInterval(timer);
      idle?.forget();
    },
  };
}

/** What the watchdog remembers of a quiet connection's transport: its byte count and when that last changed. */
interface ByteHistory {
  bytes: number;
  changedAt: number;
}

/**
 * The idle-connection finder: the registry's last event alone cannot tell,
 * since only `sendFile` / `pipeResponse` report progress, so a response
 * written with plain `res.write` looks idle from its headers on. The transport's
 * own counters are read here, at sweep time, so no write pays for it. A
 * connection is watched once the registry has had no event for it during
 * `watchAfter` ms, and forgotten as soon as it has one or is released; with no
 * history yet, its bytes count as having moved at the first look.
 */
function idleness<M>(
  registry: Registry<M>,
  idleTimeout: number,
  watchAfter: number,
): { find: () => ConnectionInfo<M>[]; forget: () => void } {
  // Entries of released connections go at the next sweep, and all of them when the watchdog stops.
  const watched = new Map<ConnectionId, ByteHistory>();
  const forget = () => watched.clear();
  const find = () => {
    // Two clocks: the registry's (its own, maybe injected) says how long since the last event; the
    // transport's bytes are real, so their history is kept in real, monotonic time.
    const now = performance.now();
    const registryIdle = new Set<ConnectionId>();
    for (const info of registry.list({ idleFor: idleTimeout })) registryIdle.add(info.id);
    const idle: ConnectionInfo<M>[] = [];
    const seen = new Set<ConnectionId>();
    const handles = handlesOf(registry);
    for (const info of registry.list({ idleFor: watchAfter })) {
      seen.add(info.id);
      const bytes = bytesMovedBy(handles.get(info.id));
      if (bytes === undefined) {
        watched.delete(info.id);
        if (registryIdle.has(info.id)) idle.push(info);
        continue;
      }
      const history = watched.get(info.id);
      if (history === undefined) watched.set(info.id, { bytes, changedAt: now });
      else if (history.bytes !== bytes) {
        history.bytes = bytes;
        history.changedAt = now;
      } else if (now - history.changedAt >= idleTimeout && registryIdle.has(info.id)) idle.push(info);
    }
    for (const id of watched.keys()) if (!seen.has(id)) watched.delete(id);
    return idle;
  };
  return { find, forget };
}

/** A transport counter that cannot be read (a socket torn down mid-sweep) counts as unknown, never as an error. */
function bytesMovedBy(handle: { [kBytesMoved](): number | undefined } | undefined): number | undefined {
  if (handle === undefined) return undefined;
  try {
    return handle[kBytesMoved]();
  } catch {
    return undefined;
  }
}
