import { z } from 'zod';
// Through the package's root (a self-reference): the subpath bundles share the root's constants.
import { closeReasons, errorReasons } from '@lifeline/core';

// The zod description of every event, for validating logs and input from outside (replay does).
// The registry never loads it: events are plain objects and the hot path does no validation.

const bytes = z.number().int().nonnegative();

/**
 * A transport's own detail about an event (a WebSocket close code, an HTTP/2
 * error code, a queue name): a flat object of JSON values, kept in the journal
 * and the log as given. The registry never reads it.
 */
export const eventDetailSchema = z.record(z.string(), z.json());
const detail = eventDetailSchema.optional();

/** Plain-data description of an error: serializable, so journals and logs can hold it. */
export const errorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
});

/** Response headers (or the first frame) were sent: `open` → `streaming`. */
export const headersEventSchema = z.object({ type: z.literal('HEADERS'), status: z.number().int().optional(), detail });
/** Body bytes were sent; `bytesSent` is the running total. */
export const dataEventSchema = z.object({ type: z.literal('DATA'), bytesSent: bytes, detail });
/** The request body was read in full. Not an end: the response may still be pending. */
export const requestEndEventSchema = z.object({ type: z.literal('REQUEST_END'), bytesReceived: bytes.optional(), detail });
/** The response was handed to the OS in full. */
export const finishEventSchema = z.object({ type: z.literal('FINISH'), bytesSent: bytes.optional(), detail });
/** The peer or the link went away first. */
export const closeEventSchema = z.object({
  type: z.literal('CLOSE'),
  reason: z.enum(closeReasons),
  /** The transport's own word for it: an HTTP parser error (`HPE_INVALID_CHUNK_SIZE`), a WebSocket close code, ... */
  code: z.string().optional(),
  bytesSent: bytes.optional(),
  detail,
});
/** The server side failed. */
export const errorEventSchema = z.object({
  type: z.literal('ERROR'),
  reason: z.enum(errorReasons),
  error: errorInfoSchema.optional(),
  bytesSent: bytes.optional(),
  detail,
});

/** Every event a connection understands, as one zod schema (discriminated on `type`). */
export const connectionEventSchema = z.discriminatedUnion('type', [
  headersEventSchema,
  dataEventSchema,
  requestEndEventSchema,
  finishEventSchema,
  closeEventSchema,
  errorEventSchema,
]);


/**
 * Any machine's event as a log holds it: a `type`, an optional `detail`, and
 * whatever other fields the machine's events carry (kept as they are). What
 * replay checks the events of a custom machine's log against.
 */
export const machineEventSchema = z.looseObject({ type: z.string(), detail });
