import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Registry } from '@lifeline/core';
import { checkOptions, option } from '@lifeline/core/internal';
import { registryOption } from './checkRegistry.js';
import { isOwnAbort, type Connection } from './connection.js';
import { checkOptionsArgument, invalidArgument } from './invalidArgument.js';
import { answerPlain } from './plainAnswer.js';
import { connectionOf, track } from './track.js';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** Options of {@link wrapHandler}. */
export interface WrapHandlerOptions<M> {
  /**
   * The registry the handler's connection is in: the request is tracked
   * there unless it is already (by `instrument` with this registry). Gives
   * the handler a `Connection<M>`. Without it, the handler gets the
   * request's connection in whatever registry tracks it, as a `Connection<unknown>`.
   */
  registry?: Registry<M>;
  /** Told about each error the handler threw or rejected with. Default: `console.error`. */
  onHandlerError?: (error: unknown, req: Req) => void;
}

const wrapHandlerOptionRules = {
  registry: registryOption,
  onHandlerError: option.function('a function (error, req) => void'),
};

/**
 * Wraps a request handler so that a throw or a rejection ends the connection
 * as `errored` (`handler-error`): a 500 if nothing was sent yet, otherwise the
 * response is cut. A throw after `res.end()` is reported but lets the response
 * complete. No unhandled rejection escapes. The handler receives the
 * connection as a third argument. A rejection caused by the connection's own
 * abort (work cancelled through `connection.signal` because the client left)
 * is not a failure: it is not reported and the connection keeps its outcome.
 * `M` comes from the `registry` option: with it, the connection is a
 * `Connection<M>` of that registry (`undefined` for a request some other
 * registry tracks); without it, the request's connection as a `Connection<unknown>`.
 * A `handler` that is not a function throws an `InvalidArgumentError`, bad
 * options an `InvalidOptionsError`, at once.
 *
 * @example
 * ```ts
 * const { registry } = instrument(server, { meta: (req) => ({ route: req.url }) });
 * server.on('request', wrapHandler(async (req, res, connection) => {
 *   res.end(await render(req, { signal: connection?.signal })); // connection: Connection<{ route: ... }> | undefined
 * }, { registry }));
 * ```
 */
export function wrapHandler<M = unknown, Q extends Req = IncomingMessage, S extends Res = ServerResponse>(
  handler: (req: Q, res: S, connection: Connection<NoInfer<M>> | undefined) => unknown,
  options: WrapHandlerOptions<M> = {},
): (req: Q, res: S) => void {
  if (typeof handler !== 'function') {
    throw invalidArgument('wrapHandler', 'handler', 'a request handler function (req, res, connection) => ...', handler, 'Pass your handler: server.on(\'request\', wrapHandler(async (req, res) => { ... })).');
  }
  checkOptionsArgument('wrapHandler', options);
  checkOptions('wrapHandler', options, wrapHandlerOptionRules);
  options ??= {};
  const report = options.onHandlerError ?? ((error: unknown) => console.error('lifeline: request handler failed:', error));
  const registry = options.registry;
  return (req, res) => {
    const tracked = connectionOf(req) ?? (registry ? track(req, res, { registry }) : undefined);
    // With a registry, the handler is promised that registry's connection (Connection<M>): a request tracked
    // in another one is not handed over as if it were, but its failures are still recorded on it below.
    const connection = registry === undefined || tracked?.registry === registry ? (tracked as Connection<M> | undefined) : undefined;
    const failed = (error: unknown) => {
      // The handler's work was aborted through connection.signal because the connection ended (the client
      // left, or the watchdog or drain ended it): a consequence of that ending, already recorded, not a failure.
      if (tracked !== undefined && isOwnAbort(tracked, error)) return;
      try {
        report(error, req);
      } catch {
        // A broken reporter must not turn into an unhandled rejection.
      }
      // A throw after res.end() fails nothing the client sees: the response completes (it was reported above).
      if ((res as { writableEnded?: boolean }).writableEnded) return;
      if (tracked !== undefined) tracked.fail('handler-error', error);
      else if (!res.headersSent) answerPlain(res, 500, 'Internal Server Error\n');
      else res.destroy();
    };
    try {
      const result = handler(req, res, connection);
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(undefined, failed);
      }
    } catch (error) {
      failed(error);
    }
  };
}
