export { checkNoLeaks, type CheckNoLeaksOptions, type CheckNoLeaksReport, type ClientKind } from './checkNoLeaks.js';
export { rawRequest, runKeepAlive, runRawClient, type ClientBehaviour } from './clients.js';
export { descriptorsOpenOn, newDescriptors, openFileDescriptors } from './descriptors.js';
export { EndingNotExercisedError, LeakError, MissingPeerDependencyError } from '../errors.js';
