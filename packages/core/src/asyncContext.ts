// The core runs in Node, browsers and workers, so it imports no node: module. Carrying a callback's async
// context needs one in Node (AsyncResource), so it is looked up here, lazily, the first time someone
// registers a callback that needs it, and through the runtime's own lookup of built-ins: a runtime without
// one (a browser) simply runs callbacks in whatever context ends the connection.

interface AsyncResourceLike {
  runInAsyncScope<A extends unknown[], R>(fn: (...args: A) => R, thisArg: unknown, ...args: A): R;
}
type AsyncResourceClass = new (type: string) => AsyncResourceLike;
/** The TC39 AsyncContext proposal's snapshot, for runtimes that ship it. */
type SnapshotClass = new () => { run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R };

type BuiltinLookup = (id: string) => unknown;

/** Node's `getBuiltinModule` (Node >= 20.16) on its process object, looked up only when first needed. */
function builtinLookup(): BuiltinLookup | undefined {
  const host = (globalThis as { process?: { getBuiltinModule?: BuiltinLookup } }).process;
  return typeof host?.getBuiltinModule === 'function' ? host.getBuiltinModule.bind(host) : undefined;
}

let binder: (<A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void) | undefined;

function findBinder(): NonNullable<typeof binder> {
  const snapshot = (globalThis as { AsyncContext?: { Snapshot?: SnapshotClass } }).AsyncContext?.Snapshot;
  if (typeof snapshot === 'function') {
    return (fn) => {
      const taken = new snapshot();
      return (...args) => taken.run(fn, ...args);
    };
  }
  const asyncHooks = builtinLookup()?.('node:async_hooks') as { AsyncResource?: AsyncResourceClass } | undefined;
  const Resource = asyncHooks?.AsyncResource;
  if (typeof Resource === 'function') {
    return (fn) => {
      // One resource and one closure per callback (AsyncResource.bind costs several times more on Node 20).
      const resource = new Resource('lifeline:onEnd');
      return (...args) => resource.runInAsyncScope(fn, undefined, ...args);
    };
  }
  return (fn) => fn;
}

/**
 * Returns `fn` bound to the async context of the caller: when it runs later
 * (from another request's turn, a socket's event), `AsyncLocalStorage` stores
 * read what they held where it was bound. Without async context support in
 * the runtime, returns `fn` itself.
 *
 * @example
 * ```ts
 * const later = bindToCaller((outcome: string) => log(store.getStore(), outcome));
 * ```
 */
export function bindToCaller<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  binder ??= findBinder();
  return binder(fn);
}

/**
 * Lets an `AbortSignal` take any number of listeners without Node's
 * `MaxListenersExceededWarning` (users hand one signal to every call a
 * connection makes). A no-op where there is no such warning.
 */
export function allowManyListeners(signal: AbortSignal): void {
  const events = builtinLookup()?.('node:events') as { setMaxListeners?: (n: number, target: EventTarget) => void } | undefined;
  events?.setMaxListeners?.(0, signal);
}
