import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionEventSchema } from '../src/eventSchemas.js';
import { InvalidArgumentError } from '../src/errors.js';
import { createRegistry } from '../src/registry.js';
import {
  connectionEventArbitrary,
  eventSequenceArbitrary,
  expectedOutcome,
  registryScriptArbitrary,
  runRegistryScript,
} from '../src/testing/index.js';

const TERMINAL = new Set(['FINISH', 'CLOSE', 'ERROR']);

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

  it('eventSequenceArbitrary stays within maxLength in every mode, and "any" includes the empty sequence', () => {
    for (const terminal of ['required', 'forbidden', 'any'] as const) {
      fc.assert(fc.property(eventSequenceArbitrary({ terminal, maxLength: 5 }), (es) => es.length <= 5), { numRuns: 300 });
    }
    expect(fc.sample(eventSequenceArbitrary(), { numRuns: 300, seed: 1 }).some((es) => es.length === 0)).toBe(true);
  });

  it('terminal: "required" sequences do not always end with their terminal fact: late facts, terminal ones included, follow it', () => {
    const sequences = fc.sample(eventSequenceArbitrary({ terminal: 'required' }), { numRuns: 500, seed: 2 });
    const after = (es: readonly { type: string }[]) => es.slice(es.findIndex((e) => TERMINAL.has(e.type)) + 1);
    expect(sequences.some((es) => after(es).length > 0)).toBe(true);
    expect(sequences.some((es) => after(es).some((e) => TERMINAL.has(e.type)))).toBe(true);
    expect(sequences.some((es) => after(es).length === 0)).toBe(true);
  });

  it('registry scripts send unknown dispatches only to ids a script never issues', () => {
    fc.assert(
      fc.property(registryScriptArbitrary(), (script) =>
        script.every((step) => step.kind !== 'dispatch-unknown' || step.id >= 1_000_000 || step.id <= 0),
      ),
      { numRuns: 300 },
    );
  });

  it('runRegistryScript opens, dispatches by target modulo the opened count, moves the clock on ticks', () => {
    const clock = { now: 0 };
    const registry = createRegistry({ clock: () => clock.now });
    const opened = runRegistryScript(
      registry,
      [
        { kind: 'dispatch', target: 3, event: { type: 'FINISH' } },
        { kind: 'open', transport: 'tcp' },
        { kind: 'open', transport: 'websocket' },
        { kind: 'tick', ms: 250 },
        { kind: 'dispatch', target: 3, event: { type: 'CLOSE', reason: 'reset' } },
        { kind: 'dispatch-unknown', id: -1, event: { type: 'FINISH' } },
      ],
      clock,
    );
    expect(opened).toEqual([1, 2]);
    expect(clock.now).toBe(250);
    expect(registry.list().map((c) => [c.id, c.transport])).toEqual([[1, 'tcp']]);
    expect(registry.stats().released.closed).toBe(1);
    expect(registry.stats().unknownEvents).toBe(2);
  });

  it('runRegistryScript refuses a registry, script or clock it cannot use, naming the argument', () => {
    const registry = createRegistry();
    expect(() => runRegistryScript({} as never, [])).toThrow(InvalidArgumentError);
    expect(() => runRegistryScript({} as never, [])).toThrow(/^runRegistryScript: argument "registry": expected an object with open\(\) and dispatch\(\)/);
    expect(() => runRegistryScript(registry, 'open' as never)).toThrow(/argument "script": expected an array of steps, received the string "open"/);
    expect(() => runRegistryScript(registry, [], { now: '0' } as never)).toThrow(/argument "clock": expected an object with a numeric now/);
  });
});
