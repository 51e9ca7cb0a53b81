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

/** Any transport name, well-known ones most often. */
export function transportArbitrary(): fc.Arbitrary<Transport> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<Transport>('http1', 'https', 'http2', 'websocket', 'tcp') },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  );
}

/** A plain error description as a transport would report it. */
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

/** Facts that never end a connection: headers sent, body progress, request body read. */
export function progressEventArbitrary(): fc.Arbitrary<ConnectionEvent> {
  return fc.oneof(
    fc.record({ type: fc.constant('HEADERS' as const), status: fc.integer({ min: 100, max: 599 }) }, { requiredKeys: ['type'] }),
    fc.record({ type: fc.constant('DATA' as const), bytesSent: bytes() }),
    fc.record({ type: fc.constant('REQUEST_END' as const), bytesReceived: bytes() }, { requiredKeys: ['type'] }),
  );
}

/** Facts that end a connection: `FINISH`, `CLOSE` or `ERROR`, with any reason. */
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

/** Any valid connection event. */
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
 * facts after the end: what real transports deliver.
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
 * Interleaved scripts over many connections: opens, facts to any opened id
 * (in flight or long released), facts to ids never issued, and clock ticks.
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
 */
export function expectedOutcome(events: readonly ConnectionEvent[]): ConnectionOutcome | undefined {
  for (const event of events) {
    if (event.type === 'FINISH') return 'finished';
    if (event.type === 'CLOSE') return 'closed';
    if (event.type === 'ERROR') return 'errored';
  }
  return undefined;
}
