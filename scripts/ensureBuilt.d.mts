/** Runs `fn` while holding the lock every writer of a package's dist/ takes. */
export function withBuildLock<T>(fn: () => T | Promise<T>): Promise<T>;
/** Builds the published dist/ of core, node-adapter and on-finished where it is missing or older than src/; true when it built. */
export function ensureBuilt(): Promise<boolean>;
