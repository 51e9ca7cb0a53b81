export {
  createReplayer,
  replay,
  type ReplayOptions,
  type ReplayProblem,
  type ReplayResult,
  type Replayer,
} from '../replay.js';
