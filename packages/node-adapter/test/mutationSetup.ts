// pnpm test:mutation only (see vitest.mutation.config.ts): the package's entry point, which imports
// every mutated file, is evaluated here, before any test, so module-level code is static to Stryker
// rather than covered by whichever test happens to import a module first.
import '../src/index.js';
