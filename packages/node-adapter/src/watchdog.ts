import { checkOptions, option, type ConnectionInfo, type Registry } from '@lifeline/core';
import { checkRegistryArgument } from './checkRegistry.js';
import { failById } from './connection.js';
import { checkOptionsArgument } from './invalidArgument.js';
import { MAX_TIMER_MS } from './timerLimit.js';

/** Options of {@link startWatchdog}. */
export interface WatchdogOptions {
  /** A connection with no event for this many ms is stale. */
  idleTimeout?: number;
  /** A connection open for this many ms is stale, whatever it does. */
  maxAge?: number;
  /** How often to sweep, in ms. Default: a quarter of the smallest timeout, at least 10 ms. */
  interval?: number;
  /** Told about each stale connection before it is ended. */
  onStale?: (connection: ConnectionInfo) => void;
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
export function startWatchdog(registry: Registry<never> | Registry<unknown>, options: WatchdogOptions): Watchdog {
  checkRegistryArgument(registry, 'startWatchdog');
  checkOptionsArgument('startWatchdog', options);
  const o: WatchdogOptions = checkOptions('startWatchdog', options, watchdogOptionRules, needsATimeout) ?? {};
  const smallest = Math.min(o.idleTimeout ?? Infinity, o.maxAge ?? Infinity);
  const interval = o.interval ?? Math.min(MAX_TIMER_MS, Math.max(10, Math.floor(smallest / 4)));
  const sweep = (): number => {
    const stale = new Map<number, ConnectionInfo>();
    if (o.idleTimeout !== undefined) for (const c of registry.list({ idleFor: o.idleTimeout })) stale.set(c.id, c);
    if (o.maxAge !== undefined) for (const c of registry.list({ olderThan: o.maxAge })) stale.set(c.id, c);
    for (const info of stale.values()) {
      try {
        o.onStale?.(info);
      } catch (error) {
        console.error('lifeline: watchdog onStale threw:', error);
      }
      failById(registry, info.id, 'timeout');
    }
    return stale.size;
  };
  const timer = setInterval(sweep, interval);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
