export { connectionMachine, type ConnectionOutcome, type ConnectionState } from './connectionMachine.js';
export { compileMachine, type CompiledMachine, type CompileOptions } from './compile.js';
export {
  connectionEventSchema,
  connectionEventTypes,
  closeEventSchema,
  closeReasons,
  dataEventSchema,
  errorEventSchema,
  errorInfoSchema,
  errorReasons,
  finishEventSchema,
  headersEventSchema,
  requestEndEventSchema,
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
  LifelineError,
  UncompilableMachineError,
  type LifelineErrorCode,
} from './errors.js';
export type { JournalEntry } from './journal.js';
export {
  eventRecordSchema,
  logRecordSchema,
  openRecordSchema,
  toNdjsonLine,
  type EventRecord,
  type LogRecord,
  type OpenRecord,
} from './log.js';
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
export {
  createReplayer,
  replay,
  type ReplayOptions,
  type ReplayProblem,
  type ReplayResult,
  type Replayer,
} from './replay.js';
export { toMermaid } from './toMermaid.js';
