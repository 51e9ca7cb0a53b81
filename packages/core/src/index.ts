export type { ConnectionOutcome, ConnectionState } from './connectionMachine.js';
export type { CompiledMachine, EventOf, OutcomeOf, StateOf } from './compiledMachine.js';
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
  type EventDetail,
  type FinishEvent,
  type HeadersEvent,
  type MachineEvent,
  type RequestEndEvent,
} from './events.js';
export {
  ConnectionEndedError,
  InvalidArgumentError,
  InvalidOptionsError,
  LifelineError,
  UncompilableMachineError,
  type LifelineErrorCode,
} from './errors.js';
export type { ConnectionHandle } from './handle.js';
export type { JournalEntry } from './journal.js';
export { toNdjsonLine, type EventRecord, type LogRecord, type OpenRecord } from './log.js';
export {
  createMachineRegistry,
  createRegistry,
  type ConnectionId,
  type ConnectionInfo,
  type ListFilter,
  type ListenerErrorContext,
  type OpenOptions,
  type Registry,
  type RegistryFor,
  type RegistryOptions,
  type RegistryStats,
  type ReleasedConnection,
  type TransitionRecord,
  type Transport,
  type WithDetail,
} from './registry.js';
