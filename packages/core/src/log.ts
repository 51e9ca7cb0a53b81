import type { z } from 'zod';
import { toErrorInfo, type ConnectionEvent } from './events.js';
import type { openRecordSchema } from './logSchemas.js';

/** A connection was opened. `meta` must be JSON-serializable for the log to round-trip. */
export type OpenRecord = z.infer<typeof openRecordSchema>;
/** An event was dispatched to a connection (known, released or unknown). `Ev`: the registry's events. */
export type EventRecord<Ev = ConnectionEvent> = { seq: number; id: number; at: number; kind: 'event'; event: Ev };
/** One line of a registry's event log. `Ev`: the registry's events (a custom machine's, for its registry). */
export type LogRecord<Ev = ConnectionEvent> = OpenRecord | EventRecord<Ev>;

/**
 * Encodes a record as one NDJSON line (with its trailing newline).
 *
 * @example
 * ```ts
 * const registry = createRegistry({ onRecord: (r) => out.write(toNdjsonLine(r)) });
 * ```
 */
export function toNdjsonLine(record: LogRecord<unknown>): string {
  return JSON.stringify(record, keepErrors) + '\n';
}

/** An Error instance passed where ErrorInfo belongs would otherwise serialize as `{}`. */
function keepErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? toErrorInfo(value) : value;
}
