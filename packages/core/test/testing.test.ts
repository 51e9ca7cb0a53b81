import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionEventSchema } from '../src/eventSchemas.js';
import {
  connectionEventArbitrary,
  eventSequenceArbitrary,
  expectedOutcome,
  registryScriptArbitrary,
} from '../src/testing/index.js';

describe('@lifeline/core/testing arbitraries', () => {
  it('generate only events the zod schema accepts', () => {
    fc.assert(fc.property(connectionEventArbitrary(), (e) => connectionEventSchema.safeParse(e).success), { numRuns: 1_000 });
  });

  it('eventSequenceArbitrary honours terminal: required | forbidden', () => {
    fc.assert(fc.property(eventSequenceArbitrary({ terminal: 'required' }), (es) => expectedOutcome(es) !== undefined), { numRuns: 500 });
    fc.assert(fc.property(eventSequenceArbitrary({ terminal: 'forbidden' }), (es) => expectedOutcome(es) === undefined), { numRuns: 500 });
  });

  it('registry scripts reach late, unknown and interleaved dispatches', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(registryScriptArbitrary(), (script) => {
        for (const step of script) kinds.add(step.kind);
      }),
      { numRuns: 200 },
    );
    expect([...kinds].sort()).toEqual(['dispatch', 'dispatch-unknown', 'open', 'tick']);
  });

  it('expectedOutcome is decided by the first terminal fact', () => {
    expect(expectedOutcome([{ type: 'HEADERS' }, { type: 'CLOSE', reason: 'reset' }, { type: 'FINISH' }])).toBe('closed');
    expect(expectedOutcome([{ type: 'DATA', bytesSent: 1 }])).toBeUndefined();
  });
});
