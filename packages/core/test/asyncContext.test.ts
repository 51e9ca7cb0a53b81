import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';

// bindToCaller looks up the runtime's async context support once, the first time it is used, and keeps what it
// found. Each test loads a fresh copy of the module, as a runtime of that kind would, so the lookup runs again
// under what the test set up.
type AsyncContextModule = typeof import('../src/asyncContext.js');

async function freshCopy(): Promise<AsyncContextModule> {
  vi.resetModules();
  return import('../src/asyncContext.js');
}

/**
 * A minimal model of the TC39 AsyncContext proposal: a Variable holds a value for the length of `run`, and a
 * Snapshot taken at one point runs a function later with every Variable as it was at that point.
 */
function asyncContextModel() {
  let current = new Map<object, unknown>();
  class Variable<T> {
    run<R>(value: T, fn: () => R): R {
      const saved = current;
      current = new Map(current).set(this, value);
      try {
        return fn();
      } finally {
        current = saved;
      }
    }
    get(): T | undefined {
      return current.get(this) as T | undefined;
    }
  }
  class Snapshot {
    readonly #taken = current;
    run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
      const saved = current;
      current = this.#taken;
      try {
        return fn(...args);
      } finally {
        current = saved;
      }
    }
  }
  return { Variable, Snapshot };
}

type BuiltinLookup = (id: string) => unknown;
const host = process as unknown as { getBuiltinModule?: BuiltinLookup };
const nodeLookup = host.getBuiltinModule;

/** Runs `fn` with `process.getBuiltinModule` replaced by `lookup` (or absent), then puts Node's back. */
function withBuiltinLookup<R>(lookup: BuiltinLookup | undefined, fn: () => R): R {
  host.getBuiltinModule = lookup;
  try {
    return fn();
  } finally {
    host.getBuiltinModule = nodeLookup;
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  host.getBuiltinModule = nodeLookup;
});

describe('bindToCaller', () => {
  it('in Node, the bound function reads the AsyncLocalStorage store of where it was bound, and gets its arguments', async () => {
    const { bindToCaller } = await freshCopy();
    const store = new AsyncLocalStorage<string>();
    const seen: [string | undefined, number, string][] = [];
    const bound = store.run('binder', () => bindToCaller((n: number, s: string) => seen.push([store.getStore(), n, s])));
    store.run('caller', () => bound(1, 'a'));
    bound(2, 'b');
    expect(seen).toEqual([
      ['binder', 1, 'a'],
      ['binder', 2, 'b'],
    ]);
  });

  it('in a runtime with AsyncContext.Snapshot, the bound function runs in the snapshot taken where it was bound', async () => {
    const { Variable, Snapshot } = asyncContextModel();
    vi.stubGlobal('AsyncContext', { Variable, Snapshot });
    const { bindToCaller } = await freshCopy();
    const request = new Variable<string>();
    const seen: [string | undefined, string][] = [];
    const bound = request.run('request-1', () => bindToCaller((s: string) => seen.push([request.get(), s])));
    request.run('request-2', () => bound('x'));
    expect(seen).toEqual([['request-1', 'x']]);
  });

  it('in a runtime without getBuiltinModule (a browser), is the function itself', async () => {
    const { bindToCaller } = await freshCopy();
    const fn = (n: number) => n;
    expect(withBuiltinLookup(undefined, () => bindToCaller(fn))).toBe(fn);
  });

  it('in a runtime with no process object at all, is the function itself', async () => {
    const { bindToCaller } = await freshCopy();
    const fn = (n: number) => n;
    vi.stubGlobal('process', undefined);
    let bound: unknown;
    try {
      bound = bindToCaller(fn);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(bound).toBe(fn);
  });

  it('in a runtime whose built-ins have no async_hooks, or an async_hooks without AsyncResource, is the function itself', async () => {
    const fn = (n: number) => n;
    const withoutModule = await freshCopy();
    expect(withBuiltinLookup(() => undefined, () => withoutModule.bindToCaller(fn))).toBe(fn);
    const withoutResource = await freshCopy();
    expect(withBuiltinLookup(() => ({}), () => withoutResource.bindToCaller(fn))).toBe(fn);
  });
});

describe('allowManyListeners', () => {
  it('is a harmless no-op where there is no getBuiltinModule, no events module, or no setMaxListeners', async () => {
    const { allowManyListeners } = await freshCopy();
    const signal = new AbortController().signal;
    expect(() => withBuiltinLookup(undefined, () => allowManyListeners(signal))).not.toThrow();
    expect(() => withBuiltinLookup(() => undefined, () => allowManyListeners(signal))).not.toThrow();
    expect(() => withBuiltinLookup(() => ({}), () => allowManyListeners(signal))).not.toThrow();
  });
});
