import { z } from 'zod';
import { connectionEventSchema, toErrorInfo, type ConnectionEvent } from './events.js';

const recordHead = {
  /** Registry-wide sequence number, 1, 2, 3, ... in dispatch order. */
  seq: z.number().int().positive(),
  /** Connection id (events may name ids the registry never issued; they are logged as dispatched). */
  id: z.number(),
  /** Clock time of the fact. */
  at: z.number().finite(),
};

/** A connection was opened. `meta` must be JSON-serializable for the log to round-trip. */
export const openRecordSchema = z.object({
  ...recordHead,
  kind: z.literal('open'),
  transport: z.string(),
  meta: z.unknown().optional(),
});

/** An event was dispatched to a connection (known, released or unknown). */
export const eventRecordSchema = z.object({
  ...recordHead,
  kind: z.literal('event'),
  event: connectionEventSchema,
});

/** One line of a registry's event log. */
export const logRecordSchema = z.discriminatedUnion('kind', [openRecordSchema, eventRecordSchema]);

export type OpenRecord = z.infer<typeof openRecordSchema>;
export type EventRecord = { seq: number; id: number; at: number; kind: 'event'; event: ConnectionEvent };
/** One line of a registry's event log. */
export type LogRecord = OpenRecord | EventRecord;

/**
 * Encodes a record as one NDJSON line (with its trailing newline).
 *
 * @example
 * ```ts
 * const registry = createRegistry({ onRecord: (r) => out.write(toNdjsonLine(r)) });
 * ```
 */
export function toNdjsonLine(record: LogRecord): string {
  return JSON.stringify(record, keepErrors) + '\n';
}

/** An Error instance passed where ErrorInfo belongs would otherwise serialize as `{}`. */
function keepErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? toErrorInfo(value) : value;
}
