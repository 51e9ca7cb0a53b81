// Type-level contract of compileMachine and the machine registry, checked by `pnpm typecheck` (tsc -b
// includes this folder; vitest does not run it). Each `@ts-expect-error` fails the typecheck if the
// line it guards starts compiling.
import { expectTypeOf } from 'vitest';
import { compileMachine } from '../../src/compile.js';
import type { ConnectionHandle } from '../../src/handle.js';
import { createMachineRegistry, createRegistry, type RegistryFor } from '../../src/registry.js';
import { jobMachine, jobTable, type JobEvent } from '../jobMachine.js';

type JobState = 'queued' | 'running' | 'done' | 'cancelled' | 'failed';
type JobOutcome = 'done' | 'cancelled' | 'failed';

export function compileMachineInfersItsTypesFromTheMachine(): void {
  const table = compileMachine(jobMachine);
  expectTypeOf(table.states).toEqualTypeOf<readonly JobState[]>();
  expectTypeOf(table.events).toEqualTypeOf<readonly JobEvent['type'][]>();
  // Without a declaration XState's types cannot say which states are final: any state.
  expectTypeOf(table.finalStates).toEqualTypeOf<readonly JobState[]>();
  expectTypeOf(jobTable.finalStates).toEqualTypeOf<readonly JobOutcome[]>();

  // @ts-expect-error type arguments are the machine's own, not free state and event names
  compileMachine<'nope', 'NOPE'>(jobMachine);
  // @ts-expect-error a declared final state must be one of the machine's states
  compileMachine(jobMachine, { finalStates: ['finished'] });
  // @ts-expect-error the event vocabulary must be the machine's event types
  compileMachine(jobMachine, { events: ['HEADERS'] });
}

export function aMachineRegistryIsTypedByItsTable(): void {
  const jobs = createMachineRegistry(jobTable);
  expectTypeOf(jobs).toEqualTypeOf<RegistryFor<typeof jobTable>>();
  expectTypeOf(jobs.dispatch(1, { type: 'START' })).toEqualTypeOf<JobState | undefined>();
  expectTypeOf(jobs.stats().released).toEqualTypeOf<{ readonly done: number; readonly cancelled: number; readonly failed: number }>();
  jobs.onRelease((job) => expectTypeOf(job.outcome).toEqualTypeOf<JobOutcome>());
  expectTypeOf(jobs.handle(1)).toEqualTypeOf<ConnectionHandle<JobOutcome, RegistryFor<typeof jobTable> extends { dispatch(id: number, event: infer Ev): unknown } ? Ev : never> | undefined>();
  // Every event may carry a JSON detail without declaring it.
  jobs.dispatch(1, { type: 'FAIL', message: 'disk full', detail: { exitCode: 2, retry: false } });
  // @ts-expect-error not an event of the job machine
  jobs.dispatch(1, { type: 'HEADERS' });
  // @ts-expect-error detail holds JSON values only
  jobs.dispatch(1, { type: 'CANCEL', detail: { at: new Date() } });
  // @ts-expect-error list filters by the machine's states
  jobs.list({ state: 'streaming' });

  const typedMeta = createMachineRegistry<typeof jobTable, { queue: string }>(jobTable);
  typedMeta.list({ meta: (meta) => meta?.queue === 'images' });
  // @ts-expect-error meta is typed
  typedMeta.open({ meta: { queue: 1 } });
}

export function theConnectionRegistryKeepsItsTypes(): void {
  const registry = createRegistry();
  expectTypeOf(registry.stats().released).toEqualTypeOf<{ readonly finished: number; readonly closed: number; readonly errored: number }>();
  // A WebSocket close code rides in the detail.
  registry.dispatch(1, { type: 'CLOSE', reason: 'aborted', detail: { closeCode: 1006 } });
  // @ts-expect-error the connection registry's events are the connection machine's
  registry.dispatch(1, { type: 'COMPLETE' });
}
