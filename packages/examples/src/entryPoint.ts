import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Runs `main` when the module at `moduleUrl` is the script node was started
 * with, and does nothing when it is merely imported. The demo modules both
 * export their logic (for tests) and run it as a command; this keeps an
 * import from starting a demo. A failure is printed and sets a non-zero
 * exit code instead of leaving an unhandled rejection.
 */
export function runIfEntryPoint(moduleUrl: string, main: () => Promise<void>): void {
  const script = process.argv[1];
  if (script === undefined || pathToFileURL(resolve(script)).href !== moduleUrl) return;
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
