import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// pnpm test:mutation: Stryker's vitest runner passes one package as vitest's
// `dir`, and test files are found relative to it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.test.ts'],
    // Reads the sources as text (what they import): it cannot pass on Stryker's instrumented copies.
    exclude: ['test/purity.test.ts'],
    reporters: ['default'],
    outputFile: undefined,
  },
});
