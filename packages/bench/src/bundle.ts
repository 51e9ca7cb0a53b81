/**
 * The bench's two server children (serverProcess.ts, h2ServerProcess.ts)
 * bundled with esbuild the way the packages ship their dist (ES2023, no
 * keepNames), instead of run through tsx. A bundled child starts in a tenth
 * of the time (no TypeScript loader: the CPU section starts ten fresh servers
 * per round, all on the servers' core, and valgrind runs node slowly), the
 * code measured is the built JavaScript a deployed server runs, and a run
 * that lasts an hour measures the sources as they were when it started, even
 * if they are edited meanwhile.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Paths of the bundled children: single ES module files, run with plain node. */
export interface BundledChildren {
  readonly http1: string;
  readonly h2: string;
}

/** Node flags a bundled child runs with: it is plain JavaScript, so no loader, only gc(). */
export const BUNDLED_NODE_FLAGS: readonly string[] = ['--expose-gc'];

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Bundles both server children into `dir` (which must exist) from the current sources. */
export async function bundleServerChildren(dir: string): Promise<BundledChildren> {
  await build({
    absWorkingDir: BENCH_DIR,
    entryPoints: ['src/serverProcess.ts', 'src/h2ServerProcess.ts'],
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2023',
    conditions: ['@lifeline/source'],
    // on-finished and prom-client are CommonJS: give the bundle a require.
    banner: { js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return { http1: join(dir, 'serverProcess.mjs'), h2: join(dir, 'h2ServerProcess.mjs') };
}
