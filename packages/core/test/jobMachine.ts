import { setup } from 'xstate';
import { compileMachine } from '../src/compile.js';

/** A job's events: a custom machine's vocabulary, unrelated to HTTP. */
export type JobEvent =
  | { type: 'START'; worker?: number }
  | { type: 'PROGRESS'; percent: number }
  | { type: 'COMPLETE' }
  | { type: 'CANCEL' }
  | { type: 'FAIL'; message?: string };

/** queued → running → done | cancelled | failed: the small machine the generic registry is tested with. */
export const jobMachine = setup({ types: { events: {} as JobEvent } }).createMachine({
  id: 'job',
  initial: 'queued',
  states: {
    queued: { on: { START: 'running', CANCEL: 'cancelled', FAIL: 'failed' } },
    running: { on: { PROGRESS: {}, COMPLETE: 'done', CANCEL: 'cancelled', FAIL: 'failed' } },
    done: { type: 'final' },
    cancelled: { type: 'final' },
    failed: { type: 'final' },
  },
});

export const jobTable = compileMachine(jobMachine, { finalStates: ['done', 'cancelled', 'failed'] });
export const jobEventTypes = ['START', 'PROGRESS', 'COMPLETE', 'CANCEL', 'FAIL'] as const;
