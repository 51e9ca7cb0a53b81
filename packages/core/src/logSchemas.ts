import { z } from 'zod';
import { connectionEventSchema, machineEventSchema } from './eventSchemas.js';

// The zod description of an event log's lines, for replay and for anyone reading a log.

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

/** An event record of a custom machine's registry: the event is checked as {@link machineEventSchema}. */
export const machineEventRecordSchema = z.object({
  ...recordHead,
  kind: z.literal('event'),
  event: machineEventSchema,
});

/** One line of the event log of a custom machine's registry (`createMachineRegistry`). */
export const machineLogRecordSchema = z.discriminatedUnion('kind', [openRecordSchema, machineEventRecordSchema]);
