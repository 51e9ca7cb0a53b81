import type { ConnectionId, Transport } from './registry.js';

/**
 * Internal: lets `replay` re-open a connection under its logged id. Not exported from the package.
 * A registered symbol because replay is its own entry point (`@lifeline/core/replay`): its bundle
 * holds a copy of this module, and both copies must name the same method.
 */
export const restoreOpen = Symbol.for('@lifeline/core.restoreOpen');

/** Internal: a registry that can re-open a logged connection (ids must rise). */
export interface Restorable<M> {
  [restoreOpen](id: ConnectionId, transport: Transport, meta: M | undefined, at: number): boolean;
}
