// Builds the published dist/ of @lifeline/core, @lifeline/node-adapter and @lifeline/on-finished when it is
// missing or older than its sources. Tests that load the drop-in the way an application does (CommonJS
// `require('on-finished')` under an override) need the real build; everything else runs from source.
// Concurrent callers (test files in parallel) take turns through a lock directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['core', 'node-adapter', 'on-finished'];
const lock = join(root, 'node_modules', '.cache', 'lifeline-dist-build.lock');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(pkg) {
  const dir = join(root, 'packages', pkg);
  let built;
  try {
    built = statSync(join(dir, 'dist', 'index.js')).mtimeMs;
  } catch {
    return true;
  }
  return newestSource(join(dir, 'src')) > built;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` while holding the build lock. Everything that writes a package's dist/ takes it: this
 * module's builds, and the tarball test's `pnpm pack`, whose prepack deletes dist/ before rebuilding it.
 */
export async function withBuildLock(fn) {
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock, { recursive: false });
      break;
    } catch (error) {
      if (error.code === 'ENOENT') mkdirSync(dirname(lock), { recursive: true });
      else if (error.code !== 'EEXIST') throw error;
      // A build that died leaves its lock behind; no build takes this long.
      else if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      else await sleep(200);
      if (Date.now() - started > 300_000) throw new Error('ensureBuilt: waited 5 minutes for another build');
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Resolves once every package's dist/ is at least as new as its src/; true when this call built something. */
export async function ensureBuilt() {
  return withBuildLock(() => {
    let rebuilt = false;
    for (const pkg of PACKAGES) {
      // A package depends on the ones before it: rebuild from the first stale one on.
      if (!rebuilt && !isStale(pkg)) continue;
      rebuilt = true;
      // The package's own build script, so this builds exactly what is published (tsc, then the bundling step).
      const run = spawnSync('npx', ['-y', 'pnpm@12.4.2', 'run', 'build'], { cwd: join(root, 'packages', pkg), encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`ensureBuilt: building ${pkg} failed:\n${run.stdout}${run.stderr}`);
    }
    return rebuilt;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await ensureBuilt();
