import { z } from 'zod';
import type { ConnectionInfo, Registry } from '@lifeline/core';
import { functionOption, parseOptions } from '@lifeline/core/internal';
import { checkRegistryArgument } from './checkRegistry.js';
import { failById } from './connection.js';
import { checkOptionsArgument } from './invalidArgument.js';

/** Options of {@link startWatchdog}; `M` is the registry's metadata type. */
export interface WatchdogOptions<M = unknown> {
  /** A connection with no event for this many ms is stale. */
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

/** Node turns a timer delay above 2^31 − 1 ms (about 24.8 days) into 1 ms: refuse such values at the boundary. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const watchdogOptionsSchema = z
  .strictObject({
    idleTimeout: z.number().positive().max(MAX_TIMER_MS).optional(),
    maxAge: z.number().positive().max(MAX_TIMER_MS).optional(),
    interval: z.number().min(1).max(MAX_TIMER_MS).optional(),
    onStale: functionOption<(connection: ConnectionInfo) => void>('a function').optional(),
  })
  .refine((o) => o.idleTimeout !== undefined || o.maxAge !== undefined, {
    message: 'give "idleTimeout" or "maxAge" (or both)',
    path: ['idleTimeout'],
  });

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
  const o = parseOptions(watchdogOptionsSchema, options, 'startWatchdog');
  const smallest = Math.min(o.idleTimeout ?? Infinity, o.maxAge ?? Infinity);
  const interval = o.interval ?? Math.min(MAX_TIMER_MS, Math.max(10, Math.floor(smallest / 4)));
  const sweep = (): number => {
    const stale = new Map<number, ConnectionInfo<M>>();
    if (o.idleTimeout !== undefined) for (const c of registry.list({ idleFor: o.idleTimeout })) stale.set(c.id, c);
    if (o.maxAge !== undefined) for (const c of registry.list({ olderThan: o.maxAge })) stale.set(c.id, c);
    for (const info of stale.values()) {
      try {
        (o.onStale as WatchdogOptions<M>['onStale'])?.(info);
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
