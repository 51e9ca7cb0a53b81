import { onFinished } from './onFinished.js';

export { isFinished } from './isFinished.js';
export type { FinishedListener } from './listeners.js';
export { inFlight } from './registry.js';
export { onFinished };
export default onFinished;
