export type { Connection } from './connection.js';
export {
  subscribeOpen,
  subscribeRelease,
  type ConnectionOpenMessage,
  type ConnectionReleaseMessage,
} from './diagnostics.js';
export { drain, type DrainOptions, type DrainResult } from './drain.js';
export { AlreadyInstrumentedError, ConnectionClosedError, ConnectionErroredError, PathRefusedError, type PathRefusedReason } from './errors.js';
export { trackStream } from './http2.js';
export { instrument, type InstrumentOptions, type Instrumentation, type RequestInfo } from './instrument.js';
export { pipeResponse, type SendResult } from './pipeResponse.js';
export { sendFile, type SendFileOptions } from './sendFile.js';
export { trackSocket } from './socket.js';
export { connectionOf, track, type Trackable, type TrackOptions } from './track.js';
export { startWatchdog, type Watchdog, type WatchdogOptions } from './watchdog.js';
export { wrapHandler, type WrapHandlerOptions } from './wrapHandler.js';
