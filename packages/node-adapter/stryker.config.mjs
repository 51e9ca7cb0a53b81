// pnpm test:mutation (adapter half); run from the repository root.
// Surviving mutants judged equivalent are listed, one line each, in stryker.equivalent.md.
import { strykerConfig } from '../../scripts/strykerConfig.mjs';

export default strykerConfig(
  'packages/node-adapter',
  ['http1', 'http2', 'socket', 'connection', 'endingFacts', 'sendFile', 'pipeResponse', 'track', 'instrument'].map(
    (file) => `packages/node-adapter/src/${file}.ts`,
  ),
);
