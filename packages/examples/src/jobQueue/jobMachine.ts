import { setup } from 'xstate';
import type { ErrorInfo, OutcomeOf, StateOf } from '@lifeline/core';
import { compileMachine } from '@lifeline/core/machine';

/** Why a job was cancelled: a caller asked, or the queue shut down. */
export type CancelReason = 'requested' | 'shutdown';

/** The facts of a job's life. */
export type JobEvent =
  | { readonly type: 'START' }
  | { readonly type: 'COMPLETE' }
  | { readonly type: 'FAIL'; readonly error: ErrorInfo }
  | { readonly type: 'CANCEL'; readonly reason: CancelReason };


/**
 * A job's lifecycle: `queued` → `running` → `done` | `cancelled` | `failed`. A queued
 * job can be cancelled before it starts; a running one completes, fails or is cancelled.
 * Flat and guard-free, and every state can reach a final one, so `compileMachine` turns it into a table.
 *
 * @example
 * ```ts
 * import { initialTransition, transition } from 'xstate';
 * const [queued] = initialTransition(jobMachine);
 * transition(jobMachine, queued, { type: 'START' })[0].value; // 'running'
 * ```
 */
export const jobMachine = setup({ types: { events: {} as JobEvent } }).createMachine({
  id: 'job',
  initial: 'queued',
  states: {
    queued: { on: { START: 'running', CANCEL: 'cancelled' } },
    running: { on: { COMPLETE: 'done', FAIL: 'failed', CANCEL: 'cancelled' } },
    done: { type: 'final' },
    cancelled: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** {@link jobMachine} as the integer table a registry runs on; its outcomes are the final states. */
export const jobTable = compileMachine(jobMachine, { finalStates: ['done', 'cancelled', 'failed'] });

/** The states and outcomes, as the compiled machine types them. */
export type JobState = StateOf<typeof jobTable>;
export type JobOutcome = OutcomeOf<typeof jobTable>;
