import { AsyncLocalStorage } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectionEndedError, InvalidArgumentError, InvalidOptionsError } from '../src/errors.js';
import type { ConnectionEvent } from '../src/events.js';
import { createMachineRegistry, createRegistry, type Registry } from '../src/registry.js';
import { jobTable } from './jobMachine.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Opens `count` children under `parent` and ends each; returns weak references to their handles. */
function openAndEndChildren(registry: Registry, parent: number, count: number): WeakRef<object>[] {
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < count; i++) {
    const child = registry.open({ parent });
    refs.push(new WeakRef(registry.handle(child)!));
    registry.dispatch(child, { type: 'FINISH' });
  }
  return refs;
}

describe('connection handle: onEnd', () => {
  it('calls each listener once, at the release, with the outcome and the terminal event', () => {
    const registry = createRegistry();
    const id = registry.open();
    const handle = registry.handle(id)!;
    const calls: [string, string][] = [];
    handle.onEnd((outcome, event) => calls.push([outcome, event.type]));
    registry.dispatch(id, { type: 'HEADERS', status: 200 });
    expect(calls).toEqual([]);
    registry.dispatch(id, { type: 'CLOSE', reason: 'aborted' });
    registry.dispatch(id, { type: 'FINISH' });
    expect(calls).toEqual([['closed', 'CLOSE']]);
    expect(handle.outcome).toBe('closed');
  });

  it('runs the listener in the async context onEnd was called in, not the one that ended the connection', async () => {
    const store = new AsyncLocalStorage<string>();
    const registry = createRegistry();
    const id = registry.open();
    const seen: (string | undefined)[] = [];
    store.run('request-1', () => registry.handle(id)!.onEnd(() => seen.push(store.getStore())));
    await store.run('someone-else', async () => {
      await Promise.resolve();
      registry.dispatch(id, { type: 'FINISH' });
    });
    expect(seen).toEqual(['request-1']);
  });

  it('calls a listener added after the end once, on a microtask, still in its caller context', async () => {
    const store = new AsyncLocalStorage<string>();
    const registry = createRegistry();
    const id = registry.open();
    const handle = registry.handle(id)!;
    registry.dispatch(id, { type: 'ERROR', reason: 'timeout' });
    const seen: [string, string | undefined][] = [];
    store.run('late', () => handle.onEnd((outcome) => seen.push([outcome, store.getStore()])));
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen).toEqual([['errored', 'late']]);
  });

  it('removes a listener with the function onEnd returns', async () => {
    const registry = createRegistry();
    const id = registry.open();
    const calls: string[] = [];
    const off = registry.handle(id)!.onEnd(() => calls.push('removed'));
    registry.handle(id)!.onEnd(() => calls.push('kept'));
    off();
    registry.dispatch(id, { type: 'FINISH' });
    const ended = registry.handle(registry.open())!;
    ended.dispatch({ type: 'FINISH' });
    ended.onEnd(() => calls.push('cancelled-before-microtask'))();
    await Promise.resolve();
    expect(calls).toEqual(['kept']);
  });

  it('the function onEnd returns removes its own listener only, wherever it sits, and removes nothing more when called again', () => {
    const registry = createRegistry();
    const handle = registry.handle(registry.open())!;
    const calls: string[] = [];
    handle.onEnd(() => calls.push('first'));
    const offMiddle = handle.onEnd(() => calls.push('middle'));
    handle.onEnd(() => calls.push('last'));
    offMiddle();
    offMiddle();
    handle.dispatch({ type: 'FINISH' });
    expect(calls).toEqual(['first', 'last']);
  });

  it('the function onEnd returns may still be called after the end, and then does nothing', () => {
    const registry = createRegistry();
    const handle = registry.handle(registry.open())!;
    const calls: string[] = [];
    const off = handle.onEnd((outcome) => calls.push(outcome));
    handle.dispatch({ type: 'ERROR', reason: 'timeout' });
    expect(() => off()).not.toThrow();
    expect(calls).toEqual(['errored']);
  });

  it('reports a listener that throws through onListenerError, and still calls the others', () => {
    const reported: unknown[] = [];
    const registry = createRegistry({ onListenerError: (error, context) => reported.push([(error as Error).message, context]) });
    const id = registry.open();
    const calls: string[] = [];
    registry.handle(id)!.onEnd(() => {
      throw new Error('boom');
    });
    registry.handle(id)!.onEnd(() => calls.push('second'));
    registry.dispatch(id, { type: 'FINISH' });
    expect(calls).toEqual(['second']);
    expect(reported).toEqual([['boom', { listener: 'end', connectionId: id }]]);
  });

  it('is the same object on every call while in flight, and undefined for ids not in flight', () => {
    const registry = createRegistry();
    const id = registry.open();
    expect(registry.handle(id)).toBe(registry.handle(id));
    registry.dispatch(id, { type: 'FINISH' });
    expect(registry.handle(id)).toBeUndefined();
    expect(registry.handle(12345)).toBeUndefined();
  });
});

describe('connection handle: signal', () => {
  it('aborts once, at the release, with a ConnectionEndedError naming the outcome and event', () => {
    const registry = createRegistry();
    const id = registry.open();
    const signal = registry.handle(id)!.signal;
    const aborts: unknown[] = [];
    signal.addEventListener('abort', () => aborts.push(signal.reason));
    expect(signal.aborted).toBe(false);
    registry.dispatch(id, { type: 'DATA', bytesSent: 10 });
    expect(aborts).toEqual([]);
    registry.dispatch(id, { type: 'CLOSE', reason: 'reset', detail: { errno: -104 } });
    registry.dispatch(id, { type: 'ERROR', reason: 'timeout' });
    expect(aborts).toHaveLength(1);
    const reason = aborts[0] as ConnectionEndedError;
    expect(reason).toBeInstanceOf(ConnectionEndedError);
    expect(reason).toMatchObject({ name: 'AbortError', code: 'LIFELINE_CONNECTION_ENDED', outcome: 'closed' });
    expect(reason.event).toEqual({ type: 'CLOSE', reason: 'reset', detail: { errno: -104 } });
    expect(reason.message).toContain('closed');
    expect(reason.message).toContain('CLOSE');
  });

  it('is created on first read only, and is already aborted when first read after the release', () => {
    const registry = createRegistry();
    const id = registry.open();
    const handle = registry.handle(id)!;
    handle.dispatch({ type: 'FINISH' });
    expect(handle.signal.aborted).toBe(true);
    expect((handle.signal.reason as ConnectionEndedError).outcome).toBe('finished');
    expect(handle.signal).toBe(handle.signal);
  });

  it('takes many listeners without a MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const registry = createRegistry();
      const signal = registry.handle(registry.open())!.signal;
      for (let i = 0; i < 50; i++) signal.addEventListener('abort', () => {});
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});

describe('connection groups', () => {
  it('ending the parent ends its open children with the chosen event, before the parent’s end listeners run', () => {
    const registry = createRegistry();
    const ended: [number, string, ConnectionEvent][] = [];
    registry.onRelease((c) => ended.push([c.id, c.outcome, c.event]));
    const socket = registry.open({ transport: 'websocket' });
    const callA = registry.open({ parent: socket });
    const callB = registry.open({ parent: socket, endWith: { type: 'ERROR', reason: 'shutdown' } });
    const callDone = registry.open({ parent: socket });
    registry.dispatch(callDone, { type: 'FINISH' });
    const stillOpenWhenSocketEnded: number[] = [];
    registry.handle(socket)!.onEnd(() => stillOpenWhenSocketEnded.push(registry.size));
    expect(registry.list({ parent: socket }).map((c) => c.id)).toEqual([callA, callB]);
    registry.dispatch(socket, { type: 'CLOSE', reason: 'aborted', detail: { closeCode: 1006 } });
    expect(ended).toEqual([
      [callDone, 'finished', { type: 'FINISH' }],
      [socket, 'closed', { type: 'CLOSE', reason: 'aborted', detail: { closeCode: 1006 } }],
      [callA, 'closed', { type: 'CLOSE', reason: 'session-closed' }],
      [callB, 'errored', { type: 'ERROR', reason: 'shutdown' }],
    ]);
    expect(stillOpenWhenSocketEnded).toEqual([0]);
    expect(registry.size).toBe(0);
  });

  it('ending a child does not end its parent', () => {
    const registry = createRegistry();
    const socket = registry.open();
    const call = registry.open({ parent: socket });
    registry.dispatch(call, { type: 'ERROR', reason: 'handler-error' });
    expect(registry.state(socket)).toBe('open');
    expect(registry.list({ parent: socket })).toEqual([]);
    expect(registry.stats().released).toEqual({ finished: 0, closed: 0, errored: 1 });
  });

  it('a handle carries nothing that could release its connection or change its group: only id, outcome, signal, onEnd and dispatch', () => {
    const registry = createRegistry();
    const socket = registry.open();
    const call = registry.open({ parent: socket });
    const handle = registry.handle(call)!;
    const reachable = new Set<string | symbol>();
    for (let o: object | null = handle; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Reflect.ownKeys(o)) reachable.add(key);
    }
    expect([...reachable].filter((key) => key !== 'constructor').sort()).toEqual(['dispatch', 'id', 'onEnd', 'outcome', 'signal']);
    expect(registry.list({ parent: socket }).map((c) => c.id)).toEqual([call]);
    registry.dispatch(socket, { type: 'FINISH' });
    expect(handle.outcome).toBe('closed');
  });

  it('ends a child at once when its parent is not in flight', () => {
    const registry = createRegistry();
    const socket = registry.open();
    registry.dispatch(socket, { type: 'FINISH' });
    const call = registry.open({ parent: socket });
    expect(registry.state(call)).toBeUndefined();
    expect(registry.stats().released.closed).toBe(1);
  });

  it('a child takes the transport it is opened with, else the registry\'s default', () => {
    const registry = createRegistry({ transport: 'websocket' });
    const socket = registry.open();
    const plain = registry.open({ parent: socket });
    const tagged = registry.open({ parent: socket, transport: 'http2' });
    expect([registry.get(plain)!.transport, registry.get(tagged)!.transport]).toEqual(['websocket', 'http2']);
  });

  it('list() without a parent filter lists children with everyone else; with one, only that parent\'s children', () => {
    const registry = createRegistry();
    const loner = registry.open();
    const socket = registry.open();
    const call = registry.open({ parent: socket });
    const other = registry.open();
    const otherCall = registry.open({ parent: other });
    expect(registry.list().map((c) => c.id)).toEqual([loner, socket, call, other, otherCall]);
    expect(registry.list({ parent: socket }).map((c) => c.id)).toEqual([call]);
    expect(registry.list({ parent: loner })).toEqual([]);
  });

  it('a child ended by a sibling\'s end listener while their parent ends is not sent the group\'s end event afterwards', () => {
    const registry = createRegistry();
    const socket = registry.open();
    const first = registry.open({ parent: socket });
    const second = registry.open({ parent: socket });
    const secondEvents: string[] = [];
    registry.subscribe((t) => {
      if (t.id === second) secondEvents.push(t.event.type);
    });
    registry.handle(first)!.onEnd(() => registry.dispatch(second, { type: 'FINISH' }));
    registry.dispatch(socket, { type: 'CLOSE', reason: 'aborted' });
    expect(secondEvents).toEqual(['FINISH']);
    expect(registry.stats()).toMatchObject({ inFlight: 0, lateEvents: 0, released: { finished: 1, closed: 2, errored: 0 } });
  });

  it('a child whose release listener ends its parent: both are released once, and the dispatch does not throw', () => {
    const registry = createRegistry();
    const socket = registry.open();
    const call = registry.open({ parent: socket });
    const callHandle = registry.handle(call)!;
    const released: [number, string][] = [];
    registry.onRelease((c) => {
      released.push([c.id, c.outcome]);
      if (c.id === call) registry.dispatch(socket, { type: 'FINISH' });
    });
    expect(() => registry.dispatch(call, { type: 'ERROR', reason: 'handler-error' })).not.toThrow();
    expect(released).toEqual([
      [call, 'errored'],
      [socket, 'finished'],
    ]);
    expect(callHandle.outcome).toBe('errored');
    expect(registry.size).toBe(0);
  });

  it('an ended child is not kept alive by its parent while the parent stays open', async () => {
    const registry = createRegistry();
    const socket = registry.open();
    const children = openAndEndChildren(registry, socket, 20);
    // A WeakRef's target is kept until the current job ends: collect after a turn.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(children.filter((child) => child.deref() !== undefined)).toHaveLength(0);
    expect(registry.state(socket)).toBe('open');
  });

  it('a custom machine needs the ending event, and refuses one that does not end every state', () => {
    const jobs = createMachineRegistry(jobTable);
    const batch = jobs.open();
    expect(() => jobs.open({ parent: batch })).toThrow(InvalidArgumentError);
    expect(() => jobs.open({ parent: batch })).toThrow(/option "endWith" is missing/);
    // COMPLETE does nothing in `queued`: a child could outlive its parent.
    expect(() => jobs.open({ parent: batch, endWith: { type: 'COMPLETE' } })).toThrow(/option "endWith": expected an event that takes every non-final state/);
    const step = jobs.open({ parent: batch, endWith: { type: 'CANCEL', detail: { why: 'batch ended' } } });
    jobs.dispatch(step, { type: 'START' });
    jobs.dispatch(batch, { type: 'FAIL' });
    expect(jobs.stats().released).toEqual({ done: 0, cancelled: 1, failed: 1 });
    expect(() => createMachineRegistry(jobTable, { childEnd: { type: 'PROGRESS', percent: 1 } })).toThrow(InvalidOptionsError);
  });

  it('refuses a child open without an ending event, or with one that does not end every state, naming "endWith" and the fix', () => {
    const jobs = createMachineRegistry(jobTable);
    const batch = jobs.open();
    const refusal = (endWith: { type: string } | undefined) => {
      try {
        jobs.open({ parent: batch, ...(endWith === undefined ? {} : { endWith: endWith as never }) });
        return 'accepted';
      } catch (error) {
        return error instanceof InvalidArgumentError ? { argument: error.argument, message: error.message } : String(error);
      }
    };
    expect(refusal(undefined)).toEqual({
      argument: 'endWith',
      message:
        'registry.open: option "endWith" is missing: a child needs the event that ends it when its parent ends. ' +
        "Pass open({ parent, endWith: { type: 'CANCEL' } }), or give the registry a childEnd option.",
    });
    expect(refusal({ type: 'PROGRESS' })).toEqual({
      argument: 'endWith',
      message:
        'registry.open: option "endWith": expected an event that takes every non-final state to a final state (done, cancelled, failed), ' +
        'received "PROGRESS", which does not',
    });
    expect(jobs.size).toBe(1);
  });

  it('in any forest of groups, ending every root releases every connection exactly once and empties the registry', () => {
    // Each new connection picks a parent among those opened before it (or none): any forest.
    const forest = fc.array(fc.option(fc.nat(), { nil: undefined }), { minLength: 1, maxLength: 30 });
    const preEnded = fc.array(fc.nat(), { maxLength: 10 });
    fc.assert(
      fc.property(forest, preEnded, (parents, ends) => {
        const registry = createRegistry();
        const releases = new Map<number, number>();
        registry.onRelease((c) => releases.set(c.id, (releases.get(c.id) ?? 0) + 1));
        const ids: number[] = [];
        const roots: number[] = [];
        for (const p of parents) {
          const parent = p === undefined || ids.length === 0 ? undefined : ids[p % ids.length];
          const id = registry.open(parent === undefined ? {} : { parent });
          ids.push(id);
          if (parent === undefined) roots.push(id);
        }
        for (const e of ends) registry.dispatch(ids[e % ids.length]!, { type: 'FINISH' });
        for (const root of roots) registry.dispatch(root, { type: 'CLOSE', reason: 'aborted' });
        expect(registry.size).toBe(0);
        expect([...releases.keys()].sort((a, b) => a - b)).toEqual(ids);
        expect([...releases.values()].every((n) => n === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
