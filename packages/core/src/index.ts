export type { ConnectionOutcome, ConnectionState } from './connectionMachine.js';
export type { CompiledMachine } from './compiledMachine.js';
export {
  closeReasons,
  connectionEventTypes,
  errorReasons,
  toErrorInfo,
  type CloseEvent,
  type CloseReason,
  type ConnectionEvent,
  type ConnectionEventType,
  type DataEvent,
  type ErrorEvent,
  type ErrorInfo,
  type ErrorReason,
  type FinishEvent,
  type HeadersEvent,
  type RequestEndEvent,
} from './events.js';
export {
  InvalidArgumentError,
  InvalidOptionsError,
  LeakError,
  LifelineError,
  UncompilableMachineError,
  type LifelineErrorCode,
} from './errors.js';
export type { JournalEntry } from './journal.js';
export { toNdjsonLine, type EventRecord, type LogRecord, type OpenRecord } from './log.js';
export {
  createRegistry,
  type ConnectionId,
  type ConnectionInfo,
  type ListFilter,
  type ListenerErrorContext,
  type OpenOptions,
  type Registry,
  type RegistryOptions,
  type RegistryStats,
  type ReleasedConnection,
  type TransitionRecord,
  type Transport,
} from './registry.js';
