import { LifelineError, type ConnectionEvent, type ConnectionId, type ConnectionOutcome, type Transport } from '@lifeline/core';

/**
 * What the model-based commands drive: the registry's public methods, so that
 * a Lifeline registry fits, and so does your own wrapper around one (a
 * registry per tenant, a registry behind a queue...) as long as it behaves
 * like one.
 */
export interface ModelledRegistry {
  open(options?: { transport?: Transport }): ConnectionId;
  dispatch(id: ConnectionId, event: ConnectionEvent): string | undefined;
  state(id: ConnectionId): string | undefined;
  readonly size: number;
  subscribe(listener: (transition: unknown) => void): () => void;
  onRelease(listener: (released: { readonly id: ConnectionId; readonly outcome: ConnectionOutcome }) => void): () => void;
  stats(): { readonly opened: number; readonly inFlight: number; readonly released: Readonly<Record<ConnectionOutcome, number>> };
}

/**
 * The model: a plain Map of id → state, written from the specification
 * (the first terminal fact wins, progress moves `open` to `streaming`), not
 * from the registry's code.
 */
export interface RegistryModel {
  states: Map<ConnectionId, 'open' | 'streaming'>;
  opened: ConnectionId[];
  released: Map<ConnectionId, ConnectionOutcome>;
  /** Subscribers the model expects to be called, by token. */
  subscribers: Map<number, { calls: number; throws: boolean }>;
  nextToken: number;
  /** Throws the model expects the registry to report through `onListenerError`. */
  listenerErrors: number;
}

/** The system under test, with what the commands observed of it. */
export interface RegistryReal<R extends ModelledRegistry = ModelledRegistry> {
  registry: R;
  /** Per subscriber token: how often it was really called, and its unsubscribe. */
  subscribers: Map<number, { calls: number; unsubscribe: () => void }>;
  /** How many times each id was released. */
  releases: Map<ConnectionId, number>;
  /** Listener errors the registry reported. */
  listenerErrors: number;
}

/**
 * The model's answer for one event to an in-flight connection.
 *
 * @example
 * ```ts
 * nextModelState('open', { type: 'DATA', bytesSent: 10 }); // 'streaming'
 * ```
 */
export function nextModelState(state: 'open' | 'streaming', event: ConnectionEvent): 'open' | 'streaming' | ConnectionOutcome {
  switch (event.type) {
    case 'FINISH':
      return 'finished';
    case 'CLOSE':
      return 'closed';
    case 'ERROR':
      return 'errored';
    case 'HEADERS':
    case 'DATA':
      return 'streaming';
    default:
      return state;
  }
}

/**
 * Picks an id for a dispatch: an opened one (in flight or released) or one never issued.
 *
 * @example
 * ```ts
 * pickId(model, 7, false); // model.opened[7 % model.opened.length], or 1_000_007 before any open
 * ```
 */
export function pickId(model: RegistryModel, pick: number, unknown: boolean): ConnectionId {
  if (unknown || model.opened.length === 0) return 1_000_000 + pick;
  return model.opened[pick % model.opened.length]!;
}

/**
 * Throws when `actual` is not `expected`: a `LifelineError` with code `LIFELINE_MODEL_MISMATCH` saying on what the
 * registry and the model disagree; fast-check prints the commands that led there.
 */
export function agree(what: string, actual: unknown, expected: unknown): void {
  if (!Object.is(actual, expected)) {
    throw new LifelineError('LIFELINE_MODEL_MISMATCH', `${what}: the model expects ${JSON.stringify(expected)}, the registry gave ${JSON.stringify(actual)}`);
  }
}
