/** The Node major the tests run on. */
export const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * The facts whose raw Node events differ by major, as recorded without Lifeline
 * by nodeEventPaths.test.ts (which fails when a Node version changes one of them).
 * Lifeline's outcome for each is the same on every version; only the path to it differs.
 */
export const nodePaths = {
  /**
   * A pipelined response still queued behind another when its socket dies.
   * Node 20 and 22: neither `finish` nor `close` (found by Lifeline's socket sweep, reason `session-closed`).
   * Node 24 and later: its own `close`, the response destroyed with Node's own ECONNRESET whatever killed
   * the socket (so Lifeline records the socket's own error when it has one).
   */
  queuedResponseGetsClose: nodeMajor >= 24,
  /**
   * A large response whose client resets the socket mid-body.
   * Node 20 and 22: the socket's ECONNRESET, then `finish`, then `close`.
   * Node 24 and later: `close` only.
   */
  finishAfterReset: nodeMajor < 24,
} as const;

/**
 * The reasons Lifeline gives a queued pipelined response whose socket died, on this Node: the
 * socket sweep's `session-closed` on 20 and 22; from 24 on the response's own `close`, which comes
 * before or after the socket records the peer's ECONNRESET (`aborted` or `reset`).
 */
export const queuedDeathReasons: readonly string[] = nodePaths.queuedResponseGetsClose ? ['aborted', 'reset'] : ['session-closed'];
