import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRegistry, type Registry } from '../src/registry.js';
import { checkRegistryModel, OpenCommand, registryCommands, registryModelSetup, type ModelledRegistry } from '../src/testing/index.js';

describe('model-based: the registry against a Map of id → state', () => {
  it('agrees with the model under any command sequence, throwing listeners included', () => {
    fc.assert(
      fc.property(fc.commands(registryCommands(), { maxCommands: 60 }), (commands) => {
        const setup = registryModelSetup((onListenerError) => createRegistry({ onListenerError }));
        fc.modelRun(setup, commands);
        checkRegistryModel(setup.last!.model, setup.last!.real);
      }),
      { numRuns: 1_000 },
    );
  });

  it('the exported commands catch a wrapper that releases a connection twice, naming what disagreed', () => {
    // A wrapper whose onRelease hears every release twice: what a user's leaky bookkeeping might do.
    const doubling = (registry: Registry): ModelledRegistry => ({
      open: (o) => registry.open(o),
      dispatch: (id, e) => registry.dispatch(id, e),
      state: (id) => registry.state(id),
      get size() {
        return registry.size;
      },
      subscribe: (l) => registry.subscribe(l),
      onRelease: (l) => registry.onRelease((c) => (l(c), l(c))),
      stats: () => registry.stats(),
    });
    const details = fc.check(
      fc.property(fc.commands(registryCommands(), { maxCommands: 30 }), (commands) => {
        const setup = registryModelSetup((onListenerError) => doubling(createRegistry({ onListenerError })));
        fc.modelRun(setup, commands);
      }),
      { numRuns: 200, seed: 42 },
    );
    expect(details.failed).toBe(true);
    expect(String(details.errorInstance)).toMatch(/releases of \d+ after its first terminal fact: the model expects 1, the registry gave 2/);
    // Shrunk to an open and the dispatch that ends it.
    const shrunk = [...(details.counterexample![0] as Iterable<{ cmd: unknown }>)].map((c) => c.cmd);
    expect(shrunk[0]).toBeInstanceOf(OpenCommand);
    expect(shrunk).toHaveLength(2);
    expect(String(shrunk[1])).toMatch(/^dispatch\(#\d+, \{"type":"(FINISH|CLOSE|ERROR)"/);
  });

  it('registryModelSetup refuses a create that returns no registry, naming the argument', () => {
    expect(() => registryModelSetup(() => ({}) as ModelledRegistry)()).toThrow(/registryModelSetup: argument "create": expected a function returning a registry/);
  });
});
