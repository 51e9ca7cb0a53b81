import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../src/registry.js';
import { connectionEventArbitrary } from '../src/testing/index.js';
import { DispatchCommand } from './model-based/DispatchCommand.js';
import type { RegistryModel, RegistryReal } from './model-based/model.js';
import { OpenCommand } from './model-based/OpenCommand.js';
import { SubscribeCommand } from './model-based/SubscribeCommand.js';
import { UnsubscribeCommand } from './model-based/UnsubscribeCommand.js';

const commands = [
  fc.constantFrom('http1', 'http2', 'tcp').map((t) => new OpenCommand(t)),
  fc.tuple(fc.nat(), fc.boolean(), connectionEventArbitrary()).map(([p, u, e]) => new DispatchCommand(p, u, e)),
  fc.tuple(fc.nat(), connectionEventArbitrary()).map(([p, e]) => new DispatchCommand(p, false, e)),
  fc.boolean().map((t) => new SubscribeCommand(t)),
  fc.nat().map((p) => new UnsubscribeCommand(p)),
];

describe('model-based: the registry against a Map of id → state (DESIGN invariants 1–3)', () => {
  it('agrees with the model under any command sequence, throwing listeners included', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        const registry = createRegistry({ onListenerError: () => real.listenerErrors++ });
        const real: RegistryReal = { registry, subscribers: new Map(), releases: new Map(), listenerErrors: 0 };
        registry.onRelease((c) => real.releases.set(c.id, (real.releases.get(c.id) ?? 0) + 1));
        const model: RegistryModel = { states: new Map(), opened: [], released: new Map(), subscribers: new Map(), nextToken: 0, listenerErrors: 0 };
        fc.modelRun(() => ({ model, real }), cmds);
        // Each released id was released once, with the outcome the model predicted.
        for (const [id, count] of real.releases) {
          expect(count).toBe(1);
          expect(model.released.has(id)).toBe(true);
        }
        expect(real.releases.size).toBe(model.released.size);
        const stats = registry.stats();
        expect(stats.opened).toBe(model.opened.length);
        expect(stats.inFlight).toBe(model.states.size);
        const byOutcome = { finished: 0, closed: 0, errored: 0 };
        for (const outcome of model.released.values()) byOutcome[outcome]++;
        expect(stats.released).toEqual(byOutcome);
        // Every throw of a throwing subscriber was reported, none propagated.
        expect(real.listenerErrors).toBe(model.listenerErrors);
      }),
      { numRuns: 1_000 },
    );
  });
});
