import fc from 'fast-check';
import type { ConnectionOutcome } from '../connectionMachine.js';
// Shared code comes through the package's root (a self-reference): this subpath's bundle then uses the
// root's classes and constants instead of carrying copies of them.
import {
  closeReasons,
  errorReasons,
  type CloseEvent,
  type ConnectionEvent,
  type ErrorEvent,
  type ErrorInfo,
  type FinishEvent,
} from '@lifeline/core';
import type { Transport } from '../registry.js';

const bytes = () => fc.nat({ max: 1 << 24 });

/**
 * Any transport name: one of the well-known ones (`http1`, `https`, `http2`,
 * `websocket`, `tcp`) four times in five, else any string of 1 to 12 characters.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(transportArbitrary(), (transport) => registry.state(registry.open({ transport })) === 'open'));
 * ```
 */
export function transportArbitrary(): fc.Arbitrary<Transport> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<Transport>('http1', 'https', 'http2', 'websocket', 'tcp') },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  );
}

/**
 * A plain error description as a transport would report it: a `name`
 * (`Error`, `TypeError`, `AbortError`, `SystemError`), any `message` of up to
 * 40 characters, and sometimes a Node-style `code` (`ECONNRESET`, `EPIPE`...).
 *
 * @example
 * ```ts
 * const error = fc.sample(errorInfoArbitrary(), 1)[0]; // { name: 'TypeError', message: '', code: 'EPIPE' }
 * ```
 */
export function errorInfoArbitrary(): fc.Arbitrary<ErrorInfo> {
  return fc.record(
    {
      name: fc.constantFrom('Error', 'TypeError', 'AbortError', 'SystemError'),
      message: fc.string({ maxLength: 40 }),
      code: fc.constantFrom('ECONNRESET', 'EPIPE', 'ENOENT', 'EACCES', 'ERR_STREAM_PREMATURE_CLOSE', 'ETIMEDOUT'),
    },
    { requiredKeys: ['name', 'message'] },
  );
}

/**
 * Facts that never end a connection: `HEADERS` (a status from 100 to 599, or
 * none), `DATA` (a byte count up to 16 MiB) and `REQUEST_END` (a byte count, or none).
 *
 * @example
 * ```ts
 * fc.assert(fc.property(fc.array(progressEventArbitrary()), (events) => expectedOutcome(events) === undefined));
 * ```
 */
export function progressEventArbitrary(): fc.Arbitrary<ConnectionEvent> {
  return fc.oneof(
    fc.record({ type: fc.constant('HEADERS' as const), status: fc.integer({ min: 100, max: 599 }) }, { requiredKeys: ['type'] }),
    fc.record({ type: fc.constant('DATA' as const), bytesSent: bytes() }),
    fc.record({ type: fc.constant('REQUEST_END' as const), bytesReceived: bytes() }, { requiredKeys: ['type'] }),
  );
}

/**
 * Facts that end a connection: `FINISH`, `CLOSE` with any of `closeReasons`,
 * or `ERROR` with any of `errorReasons` and sometimes an {@link errorInfoArbitrary}
 * error; each sometimes with a byte count.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(terminalEventArbitrary(), (end) => { const id = registry.open(); registry.dispatch(id, end); return registry.state(id) === undefined; }));
 * ```
 */
export function terminalEventArbitrary(): fc.Arbitrary<FinishEvent | CloseEvent | ErrorEvent> {
  return fc.oneof(
    fc.record({ type: fc.constant('FINISH' as const), bytesSent: bytes() }, { requiredKeys: ['type'] }),
    fc.record(
      { type: fc.constant('CLOSE' as const), reason: fc.constantFrom(...closeReasons), bytesSent: bytes() },
      { requiredKeys: ['type', 'reason'] },
    ),
    fc.record(
      { type: fc.constant('ERROR' as const), reason: fc.constantFrom(...errorReasons), error: errorInfoArbitrary(), bytesSent: bytes() },
      { requiredKeys: ['type', 'reason'] },
    ),
  );
}

/**
 * Any valid connection event: a progress fact or a terminal one, each as the
 * arbitraries above generate it. Every value passes `connectionEventSchema`.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(connectionEventArbitrary(), (event) => connectionEventSchema.safeParse(event).success));
 * ```
 */
export function connectionEventArbitrary(): fc.Arbitrary<ConnectionEvent> {
  return fc.oneof(progressEventArbitrary(), terminalEventArbitrary());
}

/** Options of {@link eventSequenceArbitrary}. */
export interface EventSequenceOptions {
  /** `'required'`: at least one terminal fact; `'forbidden'`: none; `'any'` (default): either. */
  terminal?: 'required' | 'forbidden' | 'any';
  /** Default 12. */
  maxLength?: number;
}

/**
 * Sequences of facts for one connection, in any order, with duplicates and
 * facts after the end: what real transports deliver. With
 * `terminal: 'required'` the sequence holds at least one terminal fact but
 * need not end with one: any facts may follow the first (late progress,
 * a second `FINISH`, a `CLOSE` after an `ERROR`). With `'forbidden'` it holds
 * progress facts only. With `'any'` (default) it may hold either, or be empty.
 * At most `maxLength` facts (default 12).
 *
 * @example
 * ```ts
 * fc.assert(fc.property(eventSequenceArbitrary({ terminal: 'required' }), (events) => {
 *   const id = registry.open();
 *   for (const e of events) registry.dispatch(id, e);
 *   return registry.state(id) === undefined; // released
 * }));
 * ```
 */
export function eventSequenceArbitrary(options: EventSequenceOptions = {}): fc.Arbitrary<ConnectionEvent[]> {
  const maxLength = options.maxLength ?? 12;
  switch (options.terminal ?? 'any') {
    case 'forbidden':
      return fc.array(progressEventArbitrary(), { maxLength });
    case 'required': {
      const half = Math.max(0, Math.floor((maxLength - 1) / 2));
      return fc
        .tuple(
          fc.array(progressEventArbitrary(), { maxLength: half }),
          terminalEventArbitrary(),
          fc.array(connectionEventArbitrary(), { maxLength: half }),
        )
        .map(([before, terminal, after]) => [...before, terminal, ...after]);
    }
    default:
      return fc.array(connectionEventArbitrary(), { maxLength });
  }
}

/** One step of a {@link registryScriptArbitrary} script. */
export type RegistryStep =
  | { readonly kind: 'open'; readonly transport: Transport }
  /** `target` picks among the ids opened so far (modulo their count); with none opened yet, it names an unknown id. */
  | { readonly kind: 'dispatch'; readonly target: number; readonly event: ConnectionEvent }
  /** An id the registry never issued. */
  | { readonly kind: 'dispatch-unknown'; readonly id: number; readonly event: ConnectionEvent }
  | { readonly kind: 'tick'; readonly ms: number };

/**
 * Interleaved scripts over many connections, up to `maxSteps` steps (default
 * 60): opens, facts to any opened id (in flight or long released: late
 * facts), facts to ids never issued (from 1,000,000 up, or 0 and below), and
 * clock ticks of up to 10 s. Run one with {@link runRegistryScript}.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(registryScriptArbitrary(), (script) => {
 *   const registry = createRegistry();
 *   runRegistryScript(registry, script);
 *   return registry.size === registry.stats().inFlight;
 * }));
 * ```
 */
export function registryScriptArbitrary(options: { maxSteps?: number } = {}): fc.Arbitrary<RegistryStep[]> {
  const step: fc.Arbitrary<RegistryStep> = fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('open' as const), transport: transportArbitrary() }) },
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('dispatch' as const), target: fc.nat(), event: connectionEventArbitrary() }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('dispatch-unknown' as const),
        id: fc.oneof(fc.integer({ min: 1_000_000, max: 2_000_000 }), fc.integer({ min: -5, max: 0 })),
        event: connectionEventArbitrary(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.nat({ max: 10_000 }) }) },
  );
  return fc.array(step, { maxLength: options.maxSteps ?? 60 });
}

/**
 * The specification's answer for one connection, independent of any machine:
 * the outcome is decided by the first terminal fact, or `undefined` if none came.
 *
 * @example
 * ```ts
 * expectedOutcome([{ type: 'HEADERS' }, { type: 'CLOSE', reason: 'reset' }, { type: 'FINISH' }]); // 'closed'
 * ```
 */
export function expectedOutcome(events: readonly ConnectionEvent[]): ConnectionOutcome | undefined {
  for (const event of events) {
    if (event.type === 'FINISH') return 'finished';
    if (event.type === 'CLOSE') return 'closed';
    if (event.type === 'ERROR') return 'errored';
  }
  return undefined;
}
