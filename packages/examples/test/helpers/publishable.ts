import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from '../../../../scripts/ensureBuilt.mjs';

export const workspaceRoot = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));

export interface PublishablePackage {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly manifest: Record<string, unknown>;
}

/**
 * Every workspace package that is not `"private": true`, found by reading `packages/*` so that
 * packages added later are packed, linted and smoke-tested without editing the tests.
 */
export function publishablePackages(): PublishablePackage[] {
  const packagesDir = join(workspaceRoot, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(packagesDir, entry.name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      return { name: String(manifest.name), version: String(manifest.version), dir, manifest };
    })
    .filter((pkg) => pkg.manifest.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (never throws on a failing exit: the caller asserts on the result). */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export const PNPM = ['-y', 'pnpm@12.4.2'] as const;

/**
 * Packs one package the way it is published: `pnpm pack` runs its `prepack` (a clean build, so
 * `dist/` is removed first to prove the tarball does not depend on a build left lying around) and
 * rewrites `workspace:*` ranges to real versions. Returns the tarball's path.
 */
export async function pack(pkg: PublishablePackage, destination: string): Promise<string> {
  rmSync(join(pkg.dir, 'dist'), { recursive: true, force: true });
  const result = await run('npx', [...PNPM, 'pack', '--pack-destination', destination], { cwd: pkg.dir });
  if (result.code !== 0) throw new Error(`pnpm pack ${pkg.name} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  const tarball = join(destination, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`);
  if (!existsSync(tarball)) throw new Error(`pnpm pack ${pkg.name} wrote no ${tarball}:\n${result.stdout}`);
  return tarball;
}

/** True when a package offers a CommonJS entry of its own (then it is held to attw's strict profile). */
export function shipsCommonJs(manifest: Record<string, unknown>): boolean {
  const hasRequire = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && Object.entries(value).some(([key, inner]) => key === 'require' || hasRequire(inner));
  return manifest.type !== 'module' || hasRequire(manifest.exports);
}

/** Every file that goes into a build of the publishable packages, in a stable order. */
function buildInputs(packages: readonly PublishablePackage[]): string[] {
  const files = ['package.json', 'pnpm-lock.yaml', 'tsconfig.base.json'].map((file) => join(workspaceRoot, file));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      // .readme-samples holds the README samples test's scratch files, not package content.
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === '.readme-samples') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  for (const pkg of packages) walk(pkg.dir);
  return files;
}

/**
 * The tarballs of every publishable package, packed once per change: `pnpm test:node` runs the suite
 * under four Node versions, and packing (a clean tsc build of each package) is the slow part, so
 * tarballs are kept under node_modules/.cache keyed by a hash of everything that goes into them.
 */
export async function packedTarballs(packages: readonly PublishablePackage[]): Promise<Map<string, string>> {
  const hash = createHash('sha256');
  for (const file of buildInputs(packages)) hash.update(relative(workspaceRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  const cacheRoot = join(workspaceRoot, 'node_modules', '.cache', 'lifeline-tarballs');
  const key = hash.digest('hex').slice(0, 16);
  const cached = join(cacheRoot, key);
  const tarballFor = (dir: string, pkg: PublishablePackage) => join(dir, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`);
  if (!existsSync(cached)) {
    mkdirSync(cacheRoot, { recursive: true });
    const building = mkdtempSync(join(cacheRoot, `${key}-building-`));
    // Packing builds with tsc; the packages build in parallel (each compiles its dependencies from source).
    // Under the build lock: prepack deletes each dist/ first, and tests that load the built packages
    // (ensureBuilt) must not start while it is gone.
    await withBuildLock(() => Promise.all(packages.map((pkg) => pack(pkg, building))));
    for (const stale of readdirSync(cacheRoot)) if (/^[0-9a-f]{16}$/.test(stale) && stale !== key) rmSync(join(cacheRoot, stale), { recursive: true, force: true });
    // A concurrent run may have finished the same key first; its tarballs are the same.
    if (existsSync(cached)) rmSync(building, { recursive: true, force: true });
    else renameSync(building, cached);
  }
  return new Map(packages.map((pkg) => [pkg.name, tarballFor(cached, pkg)]));
}
