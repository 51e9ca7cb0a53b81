import type fc from 'fast-check';
import { expect } from 'vitest';
import type { ConnectionEvent } from '@lifeline/core';
import { pathFor, rawRequest, runRawClient, type ClientBehaviour, type ServerBehaviour } from '../helpers/scenarios.js';
import { waitFor } from '../helpers/server.js';
import { machineOutcome, record, type ServerModel, type ServerReal } from './model.js';

/** The facts a pairing must produce, written from the specification of each behaviour. */
function expectedFacts(server: ServerBehaviour, client: ClientBehaviour): ConnectionEvent[] {
  if (server.kind === 'throw') return [{ type: 'ERROR', reason: 'handler-error' }];
  if (server.kind === 'errorAt') return [{ type: 'HEADERS' }, { type: 'ERROR', reason: 'stream-error' }];
  if (server.kind === 'destroy') return [{ type: 'HEADERS' }, { type: 'ERROR', reason: 'destroyed' }];
  if (client.kind === 'abort-before-headers') return [{ type: 'CLOSE', reason: 'aborted' }];
  if (client.kind === 'read-all') return [{ type: 'HEADERS' }, { type: 'FINISH' }];
  return [{ type: 'HEADERS' }, { type: 'CLOSE', reason: client.kind === 'reset-at' ? 'reset' : 'aborted' }];
}

/** One request on its own socket; waits until the registry has released it. */
export class RequestCommand implements fc.AsyncCommand<ServerModel, ServerReal> {
  constructor(
    readonly server: ServerBehaviour,
    readonly client: ClientBehaviour,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: ServerModel, real: ServerReal): Promise<void> {
    const tag = `m${real.next++}`;
    const outcome = machineOutcome(expectedFacts(this.server, this.client));
    record(model, outcome);
    const arrived = new Promise<void>((resolve) => real.arrivals.set(tag, resolve));
    await runRawClient(real.port, rawRequest(pathFor(tag, this.server), true), this.client, arrived);
    await waitFor(() => real.outcomes.has(tag) && real.registry.size === 0, `release of ${tag}`, 3_000);
    expect(real.outcomes.get(tag)).toEqual([outcome]);
    expect(real.registry.stats().released).toEqual(model.released);
    expect(real.registry.stats().opened).toBe(model.requests);
  }
  toString(): string {
    return `request(server ${JSON.stringify(this.server)}, client ${JSON.stringify(this.client)})`;
  }
}
