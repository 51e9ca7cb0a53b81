/**
 * node:fs/promises, loaded at its first use rather than at import: it pulls in readline and file
 * watchers, a few milliseconds of startup that a server which never sends a file should not pay.
 */
let loading: Promise<typeof import('node:fs/promises')> | undefined;

/** The node:fs/promises module, imported on the first call. */
export const fsPromises = (): Promise<typeof import('node:fs/promises')> => (loading ??= import('node:fs/promises'));
