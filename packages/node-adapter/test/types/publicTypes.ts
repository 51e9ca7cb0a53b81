// Type-level contract of the public API, checked by `pnpm typecheck` (tsc -b includes this folder; vitest
// does not run it). Each `@ts-expect-error` fails the typecheck if the line it guards starts compiling.
import type http from 'node:http';
import { createRegistry, type ConnectionInfo, type LifelineErrorCode, type Transport } from '@lifeline/core';
import { expectTypeOf } from 'vitest';
import {
  AlreadyInstrumentedError,
  ConnectionClosedError,
  ConnectionErroredError,
  connectionOf,
  drain,
  instrument,
  startWatchdog,
  subscribeOpen,
  subscribeRelease,
  track,
  wrapHandler,
  type Connection,
  type ConnectionReleaseMessage,
} from '../../src/index.js';

interface Meta {
  route: string;
}

declare const server: http.Server;
declare const req: http.IncomingMessage;
declare const res: http.ServerResponse;

export function connectionsAreTypedByTheirRegistry(): void {
  const instrumentation = instrument(server, { meta: (request): Meta => ({ route: request.url ?? '/' }) });
  expectTypeOf(instrumentation.connectionOf(req)).toEqualTypeOf<Connection<Meta> | undefined>();
  // The free function cannot know which registry tracks the request.
  expectTypeOf(connectionOf(req)).toEqualTypeOf<Connection<unknown> | undefined>();
  // @ts-expect-error no type argument to cast with: type through the instrumentation instead
  connectionOf<Meta>(req);
  expectTypeOf(track(req, res, { registry: instrumentation.registry })).toEqualTypeOf<Connection<Meta>>();

  wrapHandler(
    (_req, _res, connection) => {
      expectTypeOf(connection).toEqualTypeOf<Connection<Meta> | undefined>();
    },
    { registry: instrumentation.registry },
  );
  wrapHandler((_req, _res, connection) => {
    expectTypeOf(connection).toEqualTypeOf<Connection<unknown> | undefined>();
  });
}

export function registryFunctionsKeepTheMetadataType(): void {
  const registry = createRegistry<Meta>();
  startWatchdog(registry, {
    idleTimeout: 1_000,
    onStale: (stale) => expectTypeOf(stale).toEqualTypeOf<ConnectionInfo<Meta>>(),
  });
  void drain(registry, { deadline: 1_000 });
}

export function theTransportHooksAreNotOnTheType(connection: Connection): void {
  // @ts-expect-error
  connection.responseFinished();
  // @ts-expect-error
  connection.responseClosed();
  // @ts-expect-error
  connection.streamClosed();
  // @ts-expect-error
  connection.socketClosed();
  // @ts-expect-error
  connection.apply({ type: 'FINISH' });
  // @ts-expect-error
  connection.id = 3;
}

export function errorCodesAreLiterals(): void {
  expectTypeOf<ConnectionClosedError['code']>().toEqualTypeOf<'LIFELINE_CONNECTION_CLOSED'>();
  expectTypeOf<ConnectionErroredError['code']>().toEqualTypeOf<'LIFELINE_CONNECTION_ERRORED'>();
  expectTypeOf<AlreadyInstrumentedError['code']>().toEqualTypeOf<'LIFELINE_ALREADY_INSTRUMENTED'>();
  expectTypeOf<ConnectionClosedError['code']>().toExtend<LifelineErrorCode>();
}

export function diagnosticsMessagesAreTyped(): void {
  // What failed strict tsc with diagnostics_channel's own subscribe (TS2345): a destructuring listener.
  subscribeOpen(({ id, transport, target }) => {
    expectTypeOf(id).toEqualTypeOf<number>();
    expectTypeOf(transport).toEqualTypeOf<Transport>();
    expectTypeOf(target).toEqualTypeOf<object>();
  });
  subscribeRelease((message) => expectTypeOf(message).toEqualTypeOf<ConnectionReleaseMessage>());
}
