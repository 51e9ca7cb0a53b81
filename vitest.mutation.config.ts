import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Set by scripts/strykerConfig.mjs to the mutated package's test/mutationSetup.ts, when it has one.
// Stryker's own setup file activates a mutant in a beforeAll, after the test file's imports ran, so
// module-level code never runs mutated; it marks code that ran outside any test as static (left out
// with ignoreStatic). A module first evaluated inside a test (a lazy import, vi.resetModules) gives its
// module-level mutants per-test coverage too: Stryker then runs them against that test alone, with the
// copy every other test uses unmutated, and reports them as survivors. Loading the modules in a setup
// file, before any test, keeps all module-level code static.
const mutationSetup = process.env.LIFELINE_MUTATION_SETUP;

// pnpm test:mutation: Stryker's vitest runner passes one package as vitest's
// `dir`, and test files are found relative to it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.test.ts'],
    exclude: [
      // Reads the sources as text (what they import): it cannot pass on Stryker's instrumented copies.
      'test/purity.test.ts',
      // Compares raw exchanges with and without Lifeline, ending each at 1 s of silence: under Stryker on a
      // shared 2-core machine that window is missed now and then, and one miss aborts the whole run.
      'test/transparency.test.ts',
      // Tests checkNoLeaks (src/testing, not mutated) by generating whole client × server runs: 12 s that Stryker
      // would repeat for every transport mutant it covers, while the transport tests cover the same paths directly.
      // Leaving tests out can only let more mutants survive, so the score stays a lower bound.
      'test/checkNoLeaks.test.ts',
    ],
    setupFiles: mutationSetup === undefined ? [] : [mutationSetup],
    reporters: ['default'],
    outputFile: undefined,
  },
});
