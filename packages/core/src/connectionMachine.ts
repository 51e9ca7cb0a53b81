import { setup } from 'xstate';
import type { ConnectionEvent } from './events.js';

/**
 * The lifecycle of one connection, and the single definition of it: the
 * registry's compiled table, the README diagram and the model-based tests are
 * all derived from this machine.
 *
 * `open` (request received, nothing sent) → `streaming` (headers sent, body
 * flowing) → `finished` | `closed` | `errored`. Every non-final state reaches
 * every final state directly; final states ignore everything after them.
 *
 * It has no guards, delays or context-dependent transitions on purpose: that is
 * what lets {@link compileMachine} turn it into an integer table.
 *
 * @example
 * ```ts
 * import { initialTransition, transition } from 'xstate';
 * const [open] = initialTransition(connectionMachine);
 * const [next] = transition(connectionMachine, open, { type: 'HEADERS', status: 200 });
 * next.value; // 'streaming'
 * ```
 */
export const connectionMachine = setup({
  types: {
    events: {} as ConnectionEvent,
  },
}).createMachine({
  id: 'connection',
  initial: 'open',
  states: {
    open: {
      description: 'Request received; nothing sent yet.',
      on: {
        HEADERS: 'streaming',
        DATA: 'streaming',
        REQUEST_END: {},
        FINISH: 'finished',
        CLOSE: 'closed',
        ERROR: 'errored',
      },
    },
    streaming: {
      description: 'Headers sent; the body is flowing.',
      on: {
        DATA: {},
        REQUEST_END: {},
        FINISH: 'finished',
        CLOSE: 'closed',
        ERROR: 'errored',
      },
    },
    finished: { type: 'final', description: 'The response was handed to the OS in full.' },
    closed: { type: 'final', description: 'The peer or the link went away first.' },
    errored: { type: 'final', description: 'The server side failed.' },
  },
});

/** A state of {@link connectionMachine}. */
export type ConnectionState = 'open' | 'streaming' | 'finished' | 'closed' | 'errored';
/** The final states, which are also the outcomes a released connection can have. */
export type ConnectionOutcome = 'finished' | 'closed' | 'errored';
