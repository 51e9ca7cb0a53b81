import { defineConfig } from 'vitest/config';

// Workspace packages resolve each other's TypeScript source through the
// "@lifeline/source" export condition, so tests need no build step.
const conditions = ['@lifeline/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@lifeline/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // The JSON report is what .ci/run counts its "N passed, N failed" line from.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
    // Vitest's default on a 2-core machine is one worker, but most files wait on sockets, child processes and
    // timers (one worker kept the CPU about 80% of one core busy): three overlap those waits.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
