// The published packages as a user gets them: every publishable workspace package is packed (once
// per change of its sources), linted as a tarball (publint, are-the-types-wrong) and installed from
// its tarball into a fresh npm project outside the workspace, where it is loaded from ESM and CommonJS and type-checked
// with the TypeScript settings the README documents as supported (and refused with the ones it
// documents as unsupported). Registry dependencies (zod, xstate, fast-check) come from the npm registry.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedTarballs, publishablePackages, run, shipsCommonJs, workspaceRoot, type PublishablePackage } from './helpers/publishable.js';

const packages = publishablePackages();
const consumerDir = join(workspaceRoot, 'packages', 'examples', 'consumer');
const bin = (name: string) => join(workspaceRoot, 'node_modules', '.bin', name);

let scratch: string;
let project: string;
let tarballs = new Map<string, string>();

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lifeline-tarballs-'));
  project = join(scratch, 'project');
  const started = Date.now();
  tarballs = await packedTarballs(packages);
  console.log(`${packages.length} packages packed (or reused from the same sources) in ${Date.now() - started} ms: ${[...tarballs.values()].join(', ')}`);

  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'lifeline-consumer', version: '1.0.0', private: true }, null, 2));
  for (const file of ['smoke.mjs', 'smoke.cjs', 'consumer.mts', 'consumer.cts', 'consumer.ts']) copyFileSync(join(consumerDir, file), join(project, file));
  // fast-check is the testing subpaths' optional peer: a user of checkNoLeaks installs it.
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', ...tarballs.values(), 'fast-check@^4'],
    { cwd: project },
  );
  if (install.code !== 0) throw new Error(`npm install of the tarballs failed:\n${install.stdout}\n${install.stderr}`);
}, 240_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const tarList = async (tarball: string) => (await run('tar', ['-tzf', tarball], { cwd: scratch })).stdout.split('\n').filter(Boolean);
const packedManifest = async (tarball: string) =>
  JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: scratch })).stdout) as Record<string, Record<string, string> | string>;

describe.each(packages.map((pkg) => [pkg.name, pkg] as const))('%s tarball', (name, pkg: PublishablePackage) => {
  it('holds a fresh build, its README and LICENSE', async () => {
    const files = await tarList(tarballs.get(name)!);
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/package.json');
    // dist/ was deleted before packing, so these exist only because prepack built them.
    const main = (pkg.manifest.exports as Record<string, Record<string, string>>)['.']!;
    for (const target of [main.types, main.default ?? main.import].filter(Boolean)) expect(files).toContain(`package/${target!.replace(/^\.\//, '')}`);
  });

  it('names real versions, not workspace: ranges, and carries the registry page fields', async () => {
    const manifest = await packedManifest(tarballs.get(name)!);
    const ranges = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.values((manifest[field] as Record<string, string> | undefined) ?? {}),
    );
    expect(ranges.filter((range) => range.startsWith('workspace:'))).toEqual([]);
    expect(manifest.license).toBe('MIT');
    expect(manifest.repository).toMatchObject({ type: 'git', directory: pkg.dir.slice(workspaceRoot.length + 1) });
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.keywords?.length).toBeGreaterThan(0);
  });

  it('passes publint --strict', async () => {
    const result = await run(bin('publint'), ['run', '--strict', '--pack', 'false', tarballs.get(name)!], { cwd: scratch });
    console.log(result.stdout, result.stderr);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('All good!');
  });

  // ESM-only packages are held to attw's esm-only profile (CommonJS-from-require resolutions are out of
  // scope, see the README's "Module format"); a package that ships its own CommonJS entry to the strict one.
  const profile = shipsCommonJs(pkg.manifest) ? 'strict' : 'esm-only';
  it(`passes are-the-types-wrong (profile ${profile})`, async () => {
    const result = await run(bin('attw'), ['--profile', profile, '--no-color', tarballs.get(name)!], { cwd: scratch });
    console.log(result.stdout, result.stderr);
    expect(result.code, result.stdout).toBe(0);
  });
});

describe('a fresh npm project that installed the tarballs', () => {
  const node = (file: string) => run(process.execPath, [file], { cwd: project, timeoutMs: 30_000 });

  it('imports them from an ES module, and a real server connection is released as finished', async () => {
    const result = await node('smoke.mjs');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ body: 'hello', outcomes: ['finished'], inFlight: 0, testing: 'function' });
  });

  it('require()s them from CommonJS, and a real server connection is released as finished', async () => {
    const result = await node('smoke.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ body: 'hello', outcomes: ['finished'], inFlight: 0 });
  });

  // One compiler host for every check, so @types/node and the packages' declarations are parsed once.
  const sourceFiles = new Map<string, ts.SourceFile | undefined>();
  const typeCheck = async (compilerOptions: ts.CompilerOptions, files: string[]) => {
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      // The consumer's own @types/node: the workspace's copy, so nothing more is downloaded.
      typeRoots: [join(workspaceRoot, 'node_modules', '@types')],
      ...compilerOptions,
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) => {
      const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
      if (!sourceFiles.has(key)) sourceFiles.set(key, getSourceFile(fileName, languageVersion, ...rest));
      return sourceFiles.get(key);
    };
    const program = ts.createProgram({ rootNames: files.map((file) => join(project, file)), options, host });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => project, getNewLine: () => '\n' });
  };

  it.each([
    ['nodenext', ts.ModuleKind.NodeNext],
    ['node20', ts.ModuleKind.Node20],
  ])('type-checks for TypeScript with module %s, from an ES module and from a CommonJS file', async (_, module) => {
    expect(await typeCheck({ module }, ['consumer.mts', 'consumer.cts'])).toBe('');
  });

  it('type-checks for TypeScript with moduleResolution bundler', async () => {
    const bundler = { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
    expect(await typeCheck(bundler, ['consumer.ts'])).toBe('');
  });

  // The README says these settings are not supported; this pins that the packages are ESM-only as documented.
  it('is refused, as documented, by CommonJS files under module node16 (TS1479) and by moduleResolution node10 (TS2307)', async () => {
    const node16 = await typeCheck({ module: ts.ModuleKind.Node16 }, ['consumer.cts']);
    expect(node16).toMatch(/error TS1479: .*@lifeline\/core/);
    const node10 = await typeCheck({ module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true }, ['consumer.ts']);
    expect(node10).toMatch(/error TS2307: Cannot find module '@lifeline\/core'/);
  });
});
