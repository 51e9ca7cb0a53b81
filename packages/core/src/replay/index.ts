export {
  createReplayer,
  replay,
  type ReplayOptions,
  type ReplayProblem,
  type ReplayProblemKind,
  type ReplayResult,
  type Replayer,
} from '../replay.js';
