import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

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
    ],
    reporters: ['default'],
    outputFile: undefined,
  },
});
