import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How the responses of one server ended, as Node itself reported it. */
export interface ResponseEndings {
  /** Requests the server received. */
  readonly received: number;
  /** Responses that emitted `finish` (before their `close`). */
  readonly finished: number;
  /** Responses that emitted `close` without ever emitting `finish`: the ones finish-only bookkeeping never frees. */
  readonly closedWithoutFinish: number;
}

/**
 * An independent referee for a demo: it watches Node's own `finish` and
 * `close` events on every response of `server`, so that what a server's
 * bookkeeping claims (the naive map, the Lifeline registry) can be checked
 * against what really happened instead of against the client's intentions.
 * An abort the client meant to make mid-transfer is only a real one if the
 * response closed before it finished.
 */
export function watchResponseEndings(server: Server): { counts(): ResponseEndings; stop(): void } {
  let received = 0;
  let finished = 0;
  let closedWithoutFinish = 0;
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    received++;
    let sawFinish = false;
    res.once('finish', () => {
      sawFinish = true;
    });
    res.once('close', () => {
      if (sawFinish) finished++;
      else closedWithoutFinish++;
    });
  };
  server.on('request', onRequest);
  return {
    counts: () => ({ received, finished, closedWithoutFinish }),
    stop: () => server.off('request', onRequest),
  };
}
