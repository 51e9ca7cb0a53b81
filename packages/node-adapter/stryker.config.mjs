// pnpm test:mutation (adapter half); run from the repository root.
// Surviving mutants judged equivalent are listed, one line each, in stryker.equivalent.md.
import { strykerConfig } from '../../scripts/strykerConfig.mjs';

export default {
  ...strykerConfig(
    'packages/node-adapter',
    ['http1', 'http2', 'socket', 'connection', 'endingFacts', 'sendFile', 'pipeResponse', 'track', 'instrument'].map(
      (file) => `packages/node-adapter/src/${file}.ts`,
    ),
  ),
  // The adapter's tests spend most of their time waiting on sockets and timers (the 2-core VM stayed mostly
  // idle with two test processes), so six run at once; Stryker's timeout is above vitest's test timeout, so a
  // test slowed by the load is not mistaken for a detected mutant.
  concurrency: 6,
};
