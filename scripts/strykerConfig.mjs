import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The Stryker settings both packages share; each package's stryker.config.mjs
// names the files it mutates. Stryker runs from the repository root (the tests
// resolve workspace packages through the root's vitest config), so every path
// here is relative to the root.

/**
 * @param {string} packageDir e.g. 'packages/core'
 * @param {string[]} mutate globs relative to the repository root
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const vitestRunner = fileURLToPath(import.meta.resolve('@stryker-mutator/vitest-runner'));

export function strykerConfig(packageDir, mutate) {
  const name = packageDir.split('/').pop();
  // A package's test/mutationSetup.ts (if any) loads its modules before any test runs, so their
  // module-level code counts as static (see vitest.mutation.config.ts). Stryker's test runner
  // processes inherit this variable, and vitest.mutation.config.ts reads it.
  const setup = `${packageDir}/test/mutationSetup.ts`;
  if (existsSync(setup)) process.env.LIFELINE_MUTATION_SETUP = setup;
  const out = `reports/mutation/${name}`;
  return {
    testRunner: 'vitest',
    // pnpm keeps the runner out of Stryker's own node_modules, where Stryker looks for
    // plugins by default, so it is named by path.
    plugins: [vitestRunner],
    // Only this package's tests: the other packages import the workspace
    // packages' original sources, outside the sandbox, so they never see a mutant.
    vitest: { configFile: 'vitest.mutation.config.ts', dir: packageDir, related: false },
    coverageAnalysis: 'perTest',
    mutate,
    // The core's tests are CPU-bound: one per core. (The adapter overrides it: its tests mostly wait.)
    concurrency: 2,
    // Longer than vitest's own 30 s test timeout (vitest.config.ts): a mutant that makes a test wait forever fails
    // that test (killed), and only a mutant that blocks the process outright is a timeout. With 10 s, a mutant whose
    // covering tests merely ran slowly on the loaded machine was reported "timed out" (detected) in one run and
    // survived in the next: 9 of 328 mutants checked again did so.
    timeoutMS: 60_000,
    // The first, whole-suite run collects per-test coverage; on a busy 2-core machine it exceeds the default 5 minutes.
    dryRunTimeoutMinutes: 30,
    // vitest does not type-check, and a `// @ts-nocheck` line added to every file would
    // change files that tests read as text (the generated connection table).
    disableTypeChecks: false,
    // Static mutants (module-level code: symbol descriptions, constant tables) are active for the whole
    // module's life, so each one reruns every test of the package: on the adapter they were a quarter
    // of the mutants and three quarters of the time. They are left out (reported as ignored).
    ignoreStatic: true,
    incremental: true,
    incrementalFile: `${out}/incremental.json`,
    reporters: ['html', 'json', 'progress', 'clear-text'],
    htmlReporter: { fileName: `${out}/index.html` },
    jsonReporter: { fileName: `${out}/mutation.json` },
    clearTextReporter: { reportTests: false, reportMutants: false },
    tempDirName: 'reports/mutation/.stryker-tmp',
    ignorePatterns: ['.cache', '.test-results', 'demo-output', 'bench-results', '.readme-samples', 'reports', 'dist'],
    cleanTempDir: 'always',
  };
}
