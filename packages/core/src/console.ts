// Core compiles without DOM or Node types (it must run anywhere), yet every
// JavaScript runtime has a console: declared here, used only as the default
// reporter of listener errors.
declare const console: { error(...data: unknown[]): void };

/** Writes to the runtime's console error stream. */
export function logError(...data: unknown[]): void {
  console.error(...data);
}
