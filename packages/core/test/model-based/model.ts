import type { ConnectionEvent } from '../../src/events.js';
import type { Registry } from '../../src/registry.js';

/**
 * The model: a plain Map of id → state, written from the specification
 * (first terminal fact wins), not from the registry's code.
 */
export interface RegistryModel {
  states: Map<number, 'open' | 'streaming'>;
  opened: number[];
  released: Map<number, 'finished' | 'closed' | 'errored'>;
  /** Subscribers the model expects to be called, by token. */
  subscribers: Map<number, { calls: number; throws: boolean }>;
  nextToken: number;
  /** Throws the model expects the registry to report through onListenerError. */
  listenerErrors: number;
}

export interface RegistryReal {
  registry: Registry;
  /** Per subscriber token: how often it was really called, and its unsubscribe. */
  subscribers: Map<number, { calls: number; unsubscribe: () => void }>;
  releases: Map<number, number>;
  listenerErrors: number;
}

export function nextModelState(
  state: 'open' | 'streaming',
  event: ConnectionEvent,
): 'open' | 'streaming' | 'finished' | 'closed' | 'errored' {
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

/** Picks an id for a dispatch: an opened one (live or released) or one never issued. */
export function pickId(model: RegistryModel, pick: number, unknown: boolean): number {
  if (unknown || model.opened.length === 0) return 1_000_000 + pick;
  return model.opened[pick % model.opened.length]!;
}
