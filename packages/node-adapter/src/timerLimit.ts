/** Node turns a timer delay above 2^31 − 1 ms (about 24.8 days) into 1 ms: refuse such values at the boundary. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
