/** The node:fs module. */
export type Fs = typeof import('node:fs');

let loaded: Fs | undefined;

/**
 * node:fs, imported at the first call rather than at import: `sendFile` and its root checks use it, and a
 * server that never sends a file should not pay for it at startup (its ES module facade reads every export,
 * the stream classes' lazy getters included). Looked up at the call, not bound at import, a test that
 * replaces the module to inject file-system faults reaches these calls even when the package was loaded
 * first, as the mutation runs load it, in a setup file before any test.
 */
export async function nodeFs(): Promise<Fs> {
  return (loaded ??= await import('node:fs'));
}
