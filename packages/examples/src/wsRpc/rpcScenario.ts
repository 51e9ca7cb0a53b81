import type { ConnectionOutcome, ReleasedConnection } from '@lifeline/core';
import { connectRpcClient, type RpcClient } from './rpcClient.js';
import type { CallId } from './rpcProtocol.js';
import { startRpcServer, type RpcHandler, type RpcMeta } from './rpcServer.js';

/** What a call's handler does: answer after `steps` progress messages, throw after them, or stream until the call ends. */
export type CallKind = 'answers' | 'throws' | 'streams-forever';
/** How a client leaves once its answered calls are done and its endless ones are streaming. */
export type ClientEnding = 'closes-cleanly' | 'terminates' | 'stays-until-shutdown';

export interface CallPlan {
  readonly kind: CallKind;
  /** Progress messages before the answer or the throw. */
  readonly steps: number;
}

export interface ClientPlan {
  readonly calls: readonly CallPlan[];
  readonly ending: ClientEnding;
}

/** An outcome, the reason the ending event gave (`'none'` for `finished`) and the WebSocket close code, if the event carried one. */
export interface Ending {
  readonly outcome: ConnectionOutcome;
  readonly reason: string;
  readonly closeCode?: number;
}

/** The ending a call must have, given what its handler does and how its client leaves. */
export function expectedCallEnding(kind: CallKind, ending: ClientEnding): Ending {
  if (kind === 'answers') return { outcome: 'finished', reason: 'none' };
  if (kind === 'throws') return { outcome: 'errored', reason: 'handler-error' };
  // A call that never answers ends with its socket: as the group ends it when the client leaves, as the server chose at shutdown.
  return ending === 'stays-until-shutdown' ? { outcome: 'errored', reason: 'shutdown' } : { outcome: 'closed', reason: 'session-closed' };
}

/** The ending a client's socket must have. */
export function expectedSocketEnding(ending: ClientEnding): Ending {
  if (ending === 'closes-cleanly') return { outcome: 'finished', reason: 'none', closeCode: 1000 };
  if (ending === 'terminates') return { outcome: 'closed', reason: 'aborted', closeCode: 1006 };
  return { outcome: 'errored', reason: 'shutdown' };
}

/** The reason a released connection's ending event gave. */
export function endingOf({ outcome, event }: ReleasedConnection<unknown>): Ending {
  const reason = 'reason' in event ? event.reason : 'none';
  const closeCode = event.detail?.closeCode;
  return typeof closeCode === 'number' ? { outcome, reason, closeCode } : { outcome, reason };
}

const STREAM_INTERVAL_MS = 5;

/** The example's methods: each call plan kind is one. */
export const scenarioHandlers: Readonly<Record<CallKind, RpcHandler>> = {
  async answers(params, { progress }) {
    const steps = params as number;
    for (let step = 1; step <= steps; step++) {
      progress(step);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return steps;
  },
  async throws(params, { progress }) {
    const steps = params as number;
    for (let step = 1; step <= steps; step++) progress(step);
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('the handler failed');
  },
  'streams-forever'(_params, { signal, progress }) {
    return new Promise((_resolve, reject) => {
      let step = 0;
      const timer = setInterval(() => progress(++step), STREAM_INTERVAL_MS);
      progress(step);
      signal.addEventListener('abort', () => (clearInterval(timer), reject(signal.reason)), { once: true });
    });
  },
};

/** One call as planned, with the ending its registry entry had. */
export interface CallReport {
  readonly client: number;
  readonly call: CallId;
  readonly kind: CallKind;
  readonly ending: ClientEnding;
  /** `undefined` if the call was never released. */
  readonly released: Ending | undefined;
  /** How many times it was released: must be 1. */
  readonly releases: number;
}

export interface SocketReport {
  readonly client: number;
  readonly ending: ClientEnding;
  readonly released: Ending | undefined;
  readonly releases: number;
}

export interface ScenarioReport {
  readonly calls: readonly CallReport[];
  readonly sockets: readonly SocketReport[];
  /** `registry.size` once the server has shut down. */
  readonly registrySize: number;
  readonly lateEvents: number;
}

/**
 * Runs one scenario over real sockets: a server, one client per plan (all at once), each
 * client starting its calls, waiting for the answered ones and for the first progress of
 * the endless ones, then leaving as planned. Once the leaving clients' sockets have ended,
 * the server shuts down under the clients that stay. Reports how the registry ended each.
 *
 * @example
 * ```ts
 * const report = await runRpcScenario([{ calls: [{ kind: 'streams-forever', steps: 0 }], ending: 'terminates' }]);
 * report.calls[0].released; // { outcome: 'closed', reason: 'session-closed' }: its socket's group ended it
 * report.sockets[0].released; // { outcome: 'closed', reason: 'aborted', closeCode: 1006 }
 * ```
 */
export async function runRpcScenario(plans: readonly ClientPlan[]): Promise<ScenarioReport> {
  const server = await startRpcServer({ handlers: scenarioHandlers });
  const released: ReleasedConnection<RpcMeta>[] = [];
  const waiters = new Set<() => void>();
  server.registry.onRelease((connection) => {
    released.push(connection);
    for (const check of waiters) check();
  });
  const untilReleased = (predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => predicate() && (waiters.delete(check), resolve());
      waiters.add(check);
      check();
    });
  const socketReleased = (client: number) => () =>
    released.some((c) => c.meta?.kind === 'socket' && c.meta.url === `/client-${client}`);

  const clients: RpcClient[] = [];
  await Promise.all(
    plans.map(async (plan, client) => {
      const rpc = await connectRpcClient(`${server.url}/client-${client}`, `c${client}.`);
      clients.push(rpc);
      const calls = plan.calls.map(({ kind, steps }) => rpc.call(kind, steps));
      await Promise.all(
        calls.map((call, i) => (plan.calls[i]!.kind === 'streams-forever' ? call.firstProgress : call.result.catch(() => {}))),
      );
      if (plan.ending === 'stays-until-shutdown') return;
      await (plan.ending === 'closes-cleanly' ? rpc.close() : rpc.terminate());
      await untilReleased(socketReleased(client)); // the server has seen it leave
    }),
  );
  await server.close();
  await Promise.all(clients.map((client) => client.closed));

  const releasesOf = (match: (meta: RpcMeta | undefined) => boolean) => released.filter((c) => match(c.meta));
  return {
    calls: plans.flatMap((plan, client) =>
      plan.calls.map(({ kind }, i) => {
        const call = `c${client}.${i + 1}`;
        const mine = releasesOf((meta) => meta?.kind === 'call' && meta.call === call);
        return { client, call, kind, ending: plan.ending, released: mine[0] && endingOf(mine[0]), releases: mine.length };
      }),
    ),
    sockets: plans.map((plan, client) => {
      const mine = releasesOf((meta) => meta?.kind === 'socket' && meta.url === `/client-${client}`);
      return { client, ending: plan.ending, released: mine[0] && endingOf(mine[0]), releases: mine.length };
    }),
    registrySize: server.registry.size,
    lateEvents: server.registry.stats().lateEvents,
  };
}
