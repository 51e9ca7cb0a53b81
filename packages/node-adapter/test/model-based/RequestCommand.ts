import type fc from 'fast-check';
import { expect } from 'vitest';
import type { ConnectionEvent } from '@lifeline/core';
import { pathFor, rawRequest, runRawClient, type ClientBehaviour, type ServerBehaviour } from '../helpers/scenarios.js';
import { waitFor } from '../helpers/server.js';
import { endingOfFacts, machineOutcome, record, type ServerModel, type ServerReal } from './model.js';

/**
 * The facts a pairing must produce, written from the specification of each behaviour. A client that
 * stops reading mid-body leaves with bytes unread, so its kernel resets the socket: the server may
 * see the reset before the response's close, and either reason is the client leaving.
 */
function expectedFacts(server: ServerBehaviour, client: ClientBehaviour): ConnectionEvent[][] {
  if (server.kind === 'throw') return [[{ type: 'ERROR', reason: 'handler-error' }]];
  if (server.kind === 'errorAt') return [[{ type: 'HEADERS' }, { type: 'ERROR', reason: 'stream-error' }]];
  if (server.kind === 'destroy') return [[{ type: 'HEADERS' }, { type: 'ERROR', reason: 'destroyed' }]];
  if (client.kind === 'abort-before-headers') return [[{ type: 'CLOSE', reason: 'aborted' }]];
  if (client.kind === 'read-all') return [[{ type: 'HEADERS' }, { type: 'FINISH' }]];
  if (client.kind === 'reset-at') return [[{ type: 'HEADERS' }, { type: 'CLOSE', reason: 'reset' }]];
  return (['aborted', 'reset'] as const).map((reason) => [{ type: 'HEADERS' }, { type: 'CLOSE', reason }]);
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
    const allowed = expectedFacts(this.server, this.client);
    // Every allowed sequence leads to the same outcome; the machine's answer for it is the model's.
    const outcome = machineOutcome(allowed[0]!);
    record(model, outcome);
    const arrived = new Promise<void>((resolve) => real.arrivals.set(tag, resolve));
    await runRawClient(real.port, rawRequest(pathFor(tag, this.server), true), this.client, arrived);
    await waitFor(() => real.outcomes.has(tag) && real.registry.size === 0, `release of ${tag}`, 3_000);
    expect(real.outcomes.get(tag)).toEqual([outcome]);
    expect(allowed.map((facts) => endingOfFacts(outcome, facts))).toContain(real.endings.get(tag)!.join('+'));
    expect(real.registry.stats().released).toEqual(model.released);
    expect(real.registry.stats().opened).toBe(model.requests);
  }
  toString(): string {
    return `request(server ${JSON.stringify(this.server)}, client ${JSON.stringify(this.client)})`;
  }
}
