import type { z } from 'zod';
import type {
  closeEventSchema,
  connectionEventSchema,
  dataEventSchema,
  errorEventSchema,
  errorInfoSchema,
  eventDetailSchema,
  finishEventSchema,
  headersEventSchema,
  requestEndEventSchema,
} from './eventSchemas.js';

/**
 * Why a connection ended on the server's side. Transport-neutral: an HTTP/1
 * response, an HTTP/2 stream, a WebSocket or a raw TCP socket all map here.
 */
export const errorReasons = [
  'stream-error', // the source being sent failed (file vanished, upstream errored)
  'handler-error', // the application's handler threw or rejected
  'socket-error', // the transport reported an error of its own
  'destroyed', // the server destroyed the connection with an error
  'timeout', // a server timeout ended it
  'shutdown', // the server shut down before it ended
  'protocol-error', // the peer spoke the protocol wrongly
] as const;
export type ErrorReason = (typeof errorReasons)[number];

/** How the peer or the link went away before the response was handed over in full. */
export const closeReasons = [
  'aborted', // the peer closed before the response was complete
  'reset', // the connection was reset (ECONNRESET, RST)
  'cancelled', // the peer cancelled this stream only (HTTP/2 RST_STREAM CANCEL)
  'session-closed', // the multiplexing session/socket went away (GOAWAY, session destroy, dead pipelined socket)
  'bad-request', // the peer sent something unparseable (an HTTP parser error): the peer's fault, not the server's
] as const;
export type CloseReason = (typeof closeReasons)[number];

// The event types are the schemas' own, imported as types only: loading this module loads no zod.

/**
 * A transport's own detail about an event, e.g. `{ closeCode: 1006 }` on a
 * WebSocket's CLOSE: JSON values only, recorded in the journal and the log.
 */
export type EventDetail = z.infer<typeof eventDetailSchema>;
/**
 * What every event of every machine may carry: its `type` and an optional
 * {@link EventDetail}. A registry of a custom machine dispatches the machine's
 * own events; each may add `detail` without declaring it.
 */
export type MachineEvent<T extends string = string> = { readonly type: T; readonly detail?: EventDetail };

/** Plain-data description of an error: serializable, so journals and logs can hold it. */
export type ErrorInfo = z.infer<typeof errorInfoSchema>;
/** Response headers (or the first frame) were sent: `open` → `streaming`. */
export type HeadersEvent = z.infer<typeof headersEventSchema>;
export type DataEvent = z.infer<typeof dataEventSchema>;
export type RequestEndEvent = z.infer<typeof requestEndEventSchema>;
export type FinishEvent = z.infer<typeof finishEventSchema>;
export type CloseEvent = z.infer<typeof closeEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
/** The union of every connection event. */
export type ConnectionEvent = z.infer<typeof connectionEventSchema>;
export type ConnectionEventType = ConnectionEvent['type'];

/** Every event type, named once. */
export const connectionEventTypes = [
  'HEADERS',
  'DATA',
  'REQUEST_END',
  'FINISH',
  'CLOSE',
  'ERROR',
] as const satisfies readonly ConnectionEventType[];

/**
 * Turns anything thrown into plain, serializable {@link ErrorInfo}.
 *
 * @example
 * ```ts
 * registry.dispatch(id, { type: 'ERROR', reason: 'stream-error', error: toErrorInfo(err) });
 * ```
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string'
      ? { name: error.name, message: error.message, code }
      : { name: error.name, message: error.message };
  }
  return { name: 'NonError', message: String(error) };
}
