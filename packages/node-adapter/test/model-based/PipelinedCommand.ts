import type fc from 'fast-check';
import { expect } from 'vitest';
import { pathFor, rawRequest, runRawClient } from '../helpers/scenarios.js';
import { queuedDeathReasons } from '../helpers/nodePaths.js';
import { waitFor } from '../helpers/server.js';
import { machineOutcome, record, type ServerModel, type ServerReal } from './model.js';

/** Several requests written at once on one socket; if `dies`, the socket dies with the later ones queued. */
export class PipelinedCommand implements fc.AsyncCommand<ServerModel, ServerReal> {
  constructor(
    readonly count: number,
    readonly dies: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: ServerModel, real: ServerReal): Promise<void> {
    const tags = Array.from({ length: this.count }, () => `m${real.next++}`);
    // A queued response gets no facts of its own from Node 20; the socket's death is its CLOSE.
    const outcome = machineOutcome(this.dies ? [{ type: 'CLOSE', reason: 'session-closed' }] : [{ type: 'HEADERS' }, { type: 'FINISH' }]);
    for (let i = 0; i < tags.length; i++) record(model, outcome);
    const payload = tags
      .map((tag, k) => rawRequest(pathFor(tag, { kind: k === 0 && this.dies ? 'hang' : 'end' }), k === tags.length - 1))
      .join('');
    const arrived = new Promise<void>((resolve) => real.arrivals.set(tags[0]!, resolve));
    await runRawClient(real.port, payload, this.dies ? { kind: 'abort-before-headers' } : { kind: 'read-all' }, arrived);
    await waitFor(() => tags.every((t) => real.outcomes.has(t)) && real.registry.size === 0, `release of ${tags.join(',')}`, 3_000);
    for (const tag of tags) expect(real.outcomes.get(tag)).toEqual([outcome]);
    // The head of the queue sees its client leave (aborted); the queued ones end as the socket's death
    // reaches them, by a path that depends on the Node version (see helpers/nodePaths.ts).
    const endings = tags.map((tag) => real.endings.get(tag)!.join('+'));
    if (this.dies) {
      expect(endings[0]).toBe('closed (aborted)');
      for (const ending of endings.slice(1)) expect(queuedDeathReasons.map((reason) => `closed (${reason})`)).toContain(ending);
    } else {
      expect(endings).toEqual(tags.map(() => 'finished'));
    }
    expect(real.registry.stats().released).toEqual(model.released);
  }
  toString(): string {
    return `pipelined(${this.count}, ${this.dies ? 'socket dies' : 'all answered'})`;
  }
}
