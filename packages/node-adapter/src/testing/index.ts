export { checkNoLeaks, type CheckNoLeaksOptions, type CheckNoLeaksReport } from './checkNoLeaks.js';
export { rawRequest, runKeepAlive, runRawClient, type ClientBehaviour } from './clients.js';
export { descriptorsOpenOn, newDescriptors, openFileDescriptors } from './descriptors.js';
