import { initialTransition, transition } from 'xstate';
import type { ConnectionEvent, ConnectionOutcome, Registry } from '@lifeline/core';
import { connectionMachine } from '@lifeline/core/machine';
import type { Arrivals } from '../helpers/scenarios.js';

/** The model: the facts each request should produce, folded through the core machine itself. */
export interface ServerModel {
  released: { finished: number; closed: number; errored: number };
  requests: number;
}

export interface ServerReal {
  port: number;
  registry: Registry<{ tag: string }>;
  arrivals: Arrivals;
  outcomes: Map<string, ConnectionOutcome[]>;
  endings: Map<string, string[]>;
  next: number;
}

/** The outcome the connection machine gives a sequence of facts. */
export function machineOutcome(facts: ConnectionEvent[]): ConnectionOutcome {
  let [snapshot] = initialTransition(connectionMachine);
  for (const fact of facts) [snapshot] = transition(connectionMachine, snapshot, fact);
  if (snapshot.status !== 'done') throw new Error(`facts ${JSON.stringify(facts)} do not end the connection`);
  return snapshot.value as ConnectionOutcome;
}

/** The ending a release with `outcome` after `facts` reads as (see endingOf in helpers/scenarios.ts). */
export function endingOfFacts(outcome: ConnectionOutcome, facts: ConnectionEvent[]): string {
  const reason = (facts.at(-1) as { reason?: string }).reason;
  return reason === undefined ? outcome : `${outcome} (${reason})`;
}

export function record(model: ServerModel, outcome: ConnectionOutcome): void {
  model.requests++;
  model.released[outcome]++;
}
