import fc from 'fast-check';
import { connectionEventArbitrary } from './arbitraries.js';
import { hasMethods, invalidArgument } from './arguments.js';
import { DispatchCommand } from './model-based/DispatchCommand.js';
import { agree, type ModelledRegistry, type RegistryModel, type RegistryReal } from './model-based/model.js';
import { OpenCommand } from './model-based/OpenCommand.js';
import { SubscribeCommand } from './model-based/SubscribeCommand.js';
import { UnsubscribeCommand } from './model-based/UnsubscribeCommand.js';

const REGISTRY_METHODS = ['open', 'dispatch', 'state', 'subscribe', 'onRelease', 'stats'];

/**
 * The commands of the registry's model-based test, for `fc.commands`: open a
 * connection, dispatch any event to an opened id (in flight or released) or
 * to one never issued, subscribe a listener (some throw), unsubscribe one.
 * Each command checks the registry against {@link RegistryModel} as it runs.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(fc.commands(registryCommands(), { maxCommands: 60 }), (commands) => {
 *   const setup = registryModelSetup((onListenerError) => createRegistry({ onListenerError }));
 *   fc.modelRun(setup, commands);
 *   checkRegistryModel(setup.last!.model, setup.last!.real);
 * }));
 * ```
 */
export function registryCommands(): fc.Arbitrary<fc.Command<RegistryModel, RegistryReal<ModelledRegistry>>>[] {
  return [
    fc.constantFrom('http1', 'http2', 'tcp').map((t) => new OpenCommand(t)),
    fc.tuple(fc.nat(), fc.boolean(), connectionEventArbitrary()).map(([p, u, e]) => new DispatchCommand(p, u, e)),
    // Twice the weight for events to opened ids: most of a registry's life.
    fc.tuple(fc.nat(), connectionEventArbitrary()).map(([p, e]) => new DispatchCommand(p, false, e)),
    fc.boolean().map((t) => new SubscribeCommand(t)),
    fc.nat().map((p) => new UnsubscribeCommand(p)),
  ];
}

/** The setup `fc.modelRun` calls, remembering what it built last so that the run can be checked as a whole afterwards. */
export interface RegistryModelSetup<R extends ModelledRegistry> {
  (): { model: RegistryModel; real: RegistryReal<R> };
  /** The model and system of the latest call, `undefined` before the first. */
  readonly last: { readonly model: RegistryModel; readonly real: RegistryReal<R> } | undefined;
}

/**
 * Builds the setup for `fc.modelRun`: an empty model and a fresh registry
 * from `create`, which receives the `onListenerError` callback to wire into
 * it (the commands count the throws of their throwing subscribers), and whose
 * releases are counted per id.
 *
 * @example
 * ```ts
 * const setup = registryModelSetup((onListenerError) => createRegistry({ onListenerError }));
 * fc.modelRun(setup, commands);
 * checkRegistryModel(setup.last!.model, setup.last!.real);
 * ```
 */
export function registryModelSetup<R extends ModelledRegistry>(create: (onListenerError: (error: unknown) => void) => R): RegistryModelSetup<R> {
  if (typeof create !== 'function') {
    throw invalidArgument('registryModelSetup', 'create', 'a function (onListenerError) => registry', create, 'Pass e.g. (onListenerError) => createRegistry({ onListenerError }).');
  }
  let last: { model: RegistryModel; real: RegistryReal<R> } | undefined;
  const setup = () => {
    const real = { subscribers: new Map(), releases: new Map(), listenerErrors: 0 } as Omit<RegistryReal<R>, 'registry'> as RegistryReal<R>;
    const registry = create(() => real.listenerErrors++);
    if (!hasMethods(registry, REGISTRY_METHODS)) {
      throw invalidArgument('registryModelSetup', 'create', `a function returning a registry (with ${REGISTRY_METHODS.join(', ')})`, registry, 'Return the registry (or your wrapper) from create.');
    }
    real.registry = registry;
    registry.onRelease((c) => real.releases.set(c.id, (real.releases.get(c.id) ?? 0) + 1));
    const model: RegistryModel = { states: new Map(), opened: [], released: new Map(), subscribers: new Map(), nextToken: 0, listenerErrors: 0 };
    last = { model, real };
    return last;
  };
  return Object.defineProperty(setup, 'last', { get: () => last }) as RegistryModelSetup<R>;
}

/**
 * The checks of a whole run, after `fc.modelRun`: each released id was
 * released exactly once, with the outcome the model predicted; `stats()`
 * counts what the model counted; no listener error went unreported. Throws an
 * error saying what disagreed.
 *
 * @example
 * ```ts
 * fc.modelRun(setup, commands);
 * checkRegistryModel(setup.last!.model, setup.last!.real);
 * ```
 */
export function checkRegistryModel(model: RegistryModel, real: RegistryReal<ModelledRegistry>): void {
  for (const [id, count] of real.releases) {
    agree(`releases of connection ${id}`, count, 1);
    agree(`connection ${id} released`, model.released.has(id), true);
  }
  agree('connections released', real.releases.size, model.released.size);
  const stats = real.registry.stats();
  agree('stats().opened', stats.opened, model.opened.length);
  agree('stats().inFlight', stats.inFlight, model.states.size);
  const byOutcome = { finished: 0, closed: 0, errored: 0 };
  for (const outcome of model.released.values()) byOutcome[outcome]++;
  for (const outcome of ['finished', 'closed', 'errored'] as const) agree(`stats().released.${outcome}`, stats.released[outcome], byOutcome[outcome]);
  agree('listener errors reported', real.listenerErrors, model.listenerErrors);
}
