import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import { createRegistry, InvalidOptionsError, type Registry } from '@lifeline/core';
import { connectionOf, drain, instrument, track, type Connection, type DrainResult, type RequestInfo } from '@lifeline/node-adapter';

/** Options of the {@link lifeline} plugin. */
export interface LifelineFastifyOptions<M = unknown> {
  /** The registry to track into. Default: a new one, reachable as `fastify.lifeline`. */
  registry?: Registry<M>;
  /** Metadata to keep with each connection, e.g. `(req) => ({ url: req.url })`. Default: none (cheapest). */
  meta?: (request: RequestInfo) => M;
  /**
   * Make `fastify.close()` wait for the requests in flight, and end those still open after `deadline` ms as
   * `errored` (`shutdown`: a 503 if nothing was sent yet, cut otherwise). `onDrained` receives what happened.
   * Default: off (fastify's own close then waits for in-flight requests without a deadline).
   */
  drain?: { deadline?: number; onDrained?: (result: DrainResult) => void };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The Lifeline registry every request of this instance is tracked in (`inject()` ones included). */
    lifeline: Registry<unknown>;
  }
  interface FastifyRequest {
    /** This request's Lifeline connection: `signal` aborts when the client leaves, `onEnd` runs once at its end. */
    readonly lifeline: Connection<unknown>;
  }
}

const OPTION_NAMES = new Set(['registry', 'meta', 'drain']);

function invalid(option: string, expected: string, received: unknown): InvalidOptionsError {
  const shown = typeof received === 'function' ? 'a function' : JSON.stringify(received) ?? String(received);
  return new InvalidOptionsError(`@lifeline/fastify: option "${option}": expected ${expected}, received ${shown}`, [option]);
}

/** Checked once at registration; nothing here runs per request. */
function checkOptions(options: Record<string, unknown>): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw new InvalidOptionsError(`@lifeline/fastify: unknown option "${key}" (known: registry, meta, drain)`, [key]);
  }
  const { registry, meta, drain: drainOption } = options;
  if (registry !== undefined && (typeof registry !== 'object' || registry === null || typeof (registry as Registry<unknown>).open !== 'function')) {
    throw invalid('registry', 'a registry made by createRegistry()', registry);
  }
  if (meta !== undefined && typeof meta !== 'function') throw invalid('meta', 'a function (request) => metadata', meta);
  if (drainOption === undefined) return;
  if (typeof drainOption !== 'object' || drainOption === null) throw invalid('drain', 'an object { deadline }', drainOption);
  const { deadline, onDrained, ...rest } = drainOption as Record<string, unknown>;
  for (const key of Object.keys(rest)) throw new InvalidOptionsError(`@lifeline/fastify: unknown option "drain.${key}" (known: deadline, onDrained)`, [`drain.${key}`]);
  if (deadline !== undefined && (typeof deadline !== 'number' || !(deadline >= 0) || deadline > 2_147_483_647)) {
    throw invalid('drain.deadline', 'a number of ms from 0 to 2147483647', deadline);
  }
  if (onDrained !== undefined && typeof onDrained !== 'function') throw invalid('drain.onDrained', 'a function (result) => void', onDrained);
}

/**
 * light-my-request's response emits `finish` from `end()` and `close` on the next tick, before its fake
 * socket has taken the bytes, so at `close` the response does not look finished yet. Its own `finish` is
 * the fact to go by; one shared function, added only to inject() responses.
 */
const kResponseFinished = Symbol.for('lifeline.internal.http1.responseFinished');
function onInjectFinish(this: ServerResponse): void {
  (connectionOf(this) as unknown as { [kResponseFinished]?: () => void } | undefined)?.[kResponseFinished]?.();
}

/** `request.lifeline`: a getter on the request prototype, so no request carries a closure or a field for it. */
function requestConnection(this: FastifyRequest): Connection<unknown> {
  return connectionOf(this.raw) as Connection<unknown>;
}

const plugin: FastifyPluginCallback<LifelineFastifyOptions> = (fastify: FastifyInstance, options, done) => {
  try {
    checkOptions(options as Record<string, unknown>);
  } catch (error) {
    // Thrown from here, the error would escape avvio; handed to done() it rejects register() and ready().
    done(error as Error);
    return;
  }
  const registry = options.registry ?? createRegistry<unknown>();
  const meta = options.meta;
  // Requests over the server's sockets are tracked by the server's own 'request' listener (prepended, so
  // before fastify routes them).
  const instrumentation = instrument(fastify.server, meta === undefined ? { registry } : { registry, meta });
  // inject() hands fake req/res objects straight to fastify's handler, past the server's 'request' event:
  // those are tracked here. Real requests are tracked already and cost one symbol lookup.
  const plain = { registry };
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction) => {
    const req = request.raw as IncomingMessage;
    if (connectionOf(req) === undefined) {
      const res = reply.raw as ServerResponse;
      track(req, res, meta === undefined ? plain : { registry, meta: meta(req) });
      if ((res as { isLightMyRequest?: boolean }).isLightMyRequest === true) res.once('finish', onInjectFinish);
    }
    next();
  });
  fastify.decorate('lifeline', registry as Registry<unknown>);
  fastify.decorateRequest('lifeline', { getter: requestConnection });
  const drainOption = options.drain;
  if (drainOption !== undefined) {
    // preClose runs before fastify closes the server, which would otherwise wait for in-flight requests
    // with no deadline.
    fastify.addHook('preClose', async () => {
      const server = fastify.server;
      const result = await drain(registry, server.listening ? { server, deadline: drainOption.deadline } : { deadline: drainOption.deadline });
      drainOption.onDrained?.(result);
    });
  }
  fastify.addHook('onClose', (_instance, next) => {
    instrumentation.detach();
    next();
  });
  done();
};

/**
 * Fastify plugin: tracks every request of the instance with Lifeline, over
 * real sockets and through `inject()` alike. Decorates `fastify.lifeline`
 * (the registry) and `request.lifeline` (the request's connection, with
 * `signal`, `onEnd`, `outcome`, `fail`); stops tracking new requests when the
 * instance closes; with `drain: { deadline }`, `fastify.close()` waits for
 * the requests in flight and ends the stragglers at the deadline. Bad options
 * fail registration with an `InvalidOptionsError` (`LIFELINE_INVALID_OPTIONS`).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import lifeline from '@lifeline/fastify';
 *
 * const app = Fastify();
 * await app.register(lifeline, { drain: { deadline: 5_000 } });
 * app.get('/report', async (request) => buildReport({ signal: request.lifeline.signal }));
 * app.lifeline.onRelease((c) => app.log.info({ outcome: c.outcome, ms: c.duration }));
 * ```
 */
export const lifeline = fp(plugin, { fastify: '5.x', name: '@lifeline/fastify' });
