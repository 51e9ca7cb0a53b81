// Every ```ts and ```js block of every README.md in the repository is compiled (strict TypeScript,
// JavaScript checked too) and run to completion, so no README shows code that does not work or
// names something it never defines. Blocks are written next to the package the README belongs to,
// so `@lifeline/*` imports resolve (to source, through the @lifeline/source condition) as a user's
// would. Only ts and js blocks are code; sh, json, text and mermaid blocks are never run, and a block
// in any other language (or none) fails, so nothing runnable can hide under another fence.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, workspaceRoot, type RunResult } from './helpers/publishable.js';

const RUNNABLE = new Set(['ts', 'js']);
const NOT_CODE = new Set(['sh', 'json', 'text', 'mermaid']);
const SAMPLE_DIR = '.readme-samples';

interface Block {
  readonly readme: string;
  readonly line: number;
  readonly language: string;
  readonly code: string;
}

function readmes(dir = workspaceRoot): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // .stryker-tmp: a mutation run's sandboxes are copies of the repository (a stale one would run every sample twice).
    if (['node_modules', '.git', '.cache', 'dist', '.stryker-tmp', SAMPLE_DIR].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...readmes(path));
    else if (entry.name === 'README.md') found.push(path);
  }
  return found.sort();
}

function blocks(readme: string): Block[] {
  const lines = readFileSync(readme, 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !/^\s*```\s*$/.test(lines[i]!)) body.push(lines[i]!.slice(open[1]!.length));
    found.push({ readme, line: start + 1, language: open[2]!.trim(), code: body.join('\n') });
  }
  return found;
}

/** The package directory a README's samples run in: its own package, or the examples package for the root README. */
function packageDirOf(readme: string): string {
  for (let dir = dirname(readme); dir.startsWith(join(workspaceRoot, 'packages')); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return join(workspaceRoot, 'packages', 'examples');
}

const all = readmes().flatMap(blocks);
const samples = all
  .filter((block) => RUNNABLE.has(block.language))
  .map((block) => {
    const dir = join(packageDirOf(block.readme), SAMPLE_DIR);
    const name = relative(workspaceRoot, block.readme).replace(/[/.]/g, '_');
    // A js block that require()s is a CommonJS file; every other block is an ES module.
    const extension = block.language === 'ts' ? 'ts' : /\brequire\(/.test(block.code) ? 'cjs' : 'mjs';
    const code = extension === 'cjs' ? block.code : `${block.code}\nexport {};\n`;
    return { ...block, dir, file: join(dir, `${name}-${block.line}.${extension}`), code };
  });

const diagnostics = new Map<string, string>();
const runs = new Map<string, Promise<RunResult>>();
/** Samples run this many at a time: each is mostly process start-up, and the file is the suite's longest. */
const CONCURRENT_RUNS = 3;

function runSample(file: string, dir: string): Promise<RunResult> {
  return run(process.execPath, ['--conditions=@lifeline/source', '--import', 'tsx', file], { cwd: dir, timeoutMs: 30_000 });
}

/**
 * Starts every sample's run, a few at a time: sample i starts once sample i - CONCURRENT_RUNS has ended,
 * so there are CONCURRENT_RUNS chains of runs. Each test then awaits its own result.
 */
function startRuns(): void {
  samples.forEach((sample, i) => {
    const before = samples[i - CONCURRENT_RUNS];
    const turn = before === undefined ? Promise.resolve() : runs.get(before.file)!.then(() => {}, () => {});
    runs.set(sample.file, turn.then(() => runSample(sample.file, sample.dir)));
  });
}

beforeAll(() => {
  const byDir = new Map<string, typeof samples>();
  for (const sample of samples) byDir.set(sample.dir, [...(byDir.get(sample.dir) ?? []), sample]);
  for (const [dir, inDir] of byDir) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const sample of inDir) writeFileSync(sample.file, sample.code);
    const base = ts.getParsedCommandLineOfConfigFile(join(workspaceRoot, 'tsconfig.base.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const options: ts.CompilerOptions = { ...base.options, noEmit: true, declaration: false, allowJs: true, checkJs: true, types: ['node'] };
    const program = ts.createProgram({ rootNames: inDir.map((sample) => sample.file), options });
    for (const sample of inDir) {
      const source = program.getSourceFile(sample.file)!;
      const found = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
      diagnostics.set(sample.file, ts.formatDiagnostics(found, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' }));
    }
  }
  startRuns();
}, 120_000);

describe('README code blocks', () => {
  it('are all fenced with a known language, so none escapes this test', () => {
    const unknown = all.filter((block) => !RUNNABLE.has(block.language) && !NOT_CODE.has(block.language));
    expect(unknown.map((block) => `${relative(workspaceRoot, block.readme)}:${block.line} \`\`\`${block.language}`)).toEqual([]);
  });

  it('include runnable samples from the root README and from every package README that has code', () => {
    const withSamples = new Set(samples.map((sample) => relative(workspaceRoot, sample.readme)));
    expect(withSamples).toContain('README.md');
    expect(withSamples).toContain('packages/core/README.md');
    expect(withSamples).toContain('packages/node-adapter/README.md');
  });
});

describe.each(samples.map((sample) => [`${relative(workspaceRoot, sample.readme)}:${sample.line} (${sample.language})`, sample] as const))(
  '%s',
  (_, sample) => {
    it('compiles', () => {
      expect(diagnostics.get(sample.file)).toBe('');
    });

    it('runs to completion', async () => {
      const result = await runs.get(sample.file)!;
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    }, 120_000);
  },
);
