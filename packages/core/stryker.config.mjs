// pnpm test:mutation (core half); run from the repository root.
import { strykerConfig } from '../../scripts/strykerConfig.mjs';

export default strykerConfig('packages/core', [
  'packages/core/src/**/*.ts',
  // fast-check arbitraries for users' own tests, not the registry's behaviour
  '!packages/core/src/testing/**',
  // generated data, pinned byte for byte against the generator's output by connectionTable.test.ts
  // (which cannot pass on an instrumented copy of the file)
  '!packages/core/src/connectionTable.generated.ts',
  // files that only re-export
  '!packages/core/src/index.ts',
  '!packages/core/src/internal.ts',
  '!packages/core/src/machine/index.ts',
  '!packages/core/src/replay/index.ts',
  '!packages/core/src/schemas/index.ts',
]);
