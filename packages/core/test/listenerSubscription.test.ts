import { createRegistry, type Registry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';

// Listeners are called from a snapshot of the list taken when a round of notification starts: removing or
// adding a listener from inside a listener changes the next round, never the one in progress.

const HEADERS = { type: 'HEADERS', status: 200 } as const;
const DATA = (bytesSent: number) => ({ type: 'DATA', bytesSent }) as const;

describe('unsubscribing', () => {
  it('stops the calls: a transition listener hears nothing after its unsubscribe', () => {
    const registry = createRegistry();
    const heard: number[] = [];
    const unsubscribe = registry.subscribe((t) => heard.push(t.id));
    const a = registry.open();
    registry.dispatch(a, HEADERS);
    unsubscribe();
    registry.dispatch(a, DATA(1));
    expect(heard).toEqual([a]);
  });

  it('twice is harmless and leaves the other listeners subscribed', () => {
    const registry = createRegistry();
    const calls: string[] = [];
    const unsubscribeA = registry.subscribe(() => calls.push('a'));
    registry.subscribe(() => calls.push('b'));
    unsubscribeA();
    unsubscribeA();
    registry.dispatch(registry.open(), HEADERS);
    expect(calls).toEqual(['b']);
  });

  // Both kinds of listener get an object with the connection's id, so one function serves as either.
  const kinds = [
    ['transition', (registry: Registry, listener: (x: { id: number }) => void) => registry.subscribe(listener)],
    ['release', (registry: Registry, listener: (x: { id: number }) => void) => registry.onRelease(listener)],
  ] as const;

  it.each(kinds)('an old %s unsubscribe called again does not remove the same function subscribed anew', (_kind, add) => {
    const registry = createRegistry();
    const heard: number[] = [];
    const listener = (x: { id: number }) => heard.push(x.id);
    const first = add(registry, listener);
    first();
    add(registry, listener);
    first();
    const id = registry.open();
    registry.dispatch(id, { type: 'FINISH' });
    expect(heard).toEqual([id]);
  });

  it.each(kinds)('one function subscribed twice as a %s listener stays subscribed once after one unsubscribe', (_kind, add) => {
    const registry = createRegistry();
    const heard: number[] = [];
    const listener = (x: { id: number }) => heard.push(x.id);
    const first = add(registry, listener);
    add(registry, listener);
    first();
    const id = registry.open();
    registry.dispatch(id, { type: 'FINISH' });
    expect(heard).toEqual([id]);
  });
});

describe('changing the listeners from inside a listener', () => {
  it('a listener that unsubscribes itself is called exactly once', () => {
    const registry = createRegistry();
    let calls = 0;
    const unsubscribe = registry.subscribe(() => {
      calls++;
      unsubscribe();
    });
    const id = registry.open();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, DATA(1));
    registry.dispatch(id, DATA(2));
    expect(calls).toBe(1);
  });

  it('a listener removed by an earlier one during a round still gets that round, and none after', () => {
    const registry = createRegistry();
    const calls: string[] = [];
    let unsubscribeB = () => {};
    registry.subscribe((t) => {
      calls.push(`a:${t.event.type}`);
      unsubscribeB();
    });
    unsubscribeB = registry.subscribe((t) => calls.push(`b:${t.event.type}`));
    registry.subscribe((t) => calls.push(`c:${t.event.type}`));
    const id = registry.open();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, DATA(1));
    expect(calls).toEqual(['a:HEADERS', 'b:HEADERS', 'c:HEADERS', 'a:DATA', 'c:DATA']);
  });

  it('a listener added during a round is first called on the next round', () => {
    const registry = createRegistry();
    const calls: string[] = [];
    let added = false;
    registry.subscribe((t) => {
      calls.push(`a:${t.event.type}`);
      if (!added) {
        added = true;
        registry.subscribe((u) => calls.push(`late:${u.event.type}`));
      }
    });
    const id = registry.open();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, DATA(1));
    expect(calls).toEqual(['a:HEADERS', 'a:DATA', 'late:DATA']);
  });

  it('a release listener that unsubscribes another still lets it see this release, not the next', () => {
    const registry = createRegistry();
    const seen: string[] = [];
    let unsubscribeSecond = () => {};
    registry.onRelease((c) => {
      seen.push(`first:${c.id}`);
      unsubscribeSecond();
    });
    unsubscribeSecond = registry.onRelease((c) => seen.push(`second:${c.id}`));
    const a = registry.open();
    const b = registry.open();
    registry.dispatch(a, { type: 'CLOSE', reason: 'aborted' });
    registry.dispatch(b, { type: 'FINISH' });
    expect(seen).toEqual([`first:${a}`, `second:${a}`, `first:${b}`]);
  });

  it('unsubscribing a transition listener leaves release listeners alone, and the other way round', () => {
    const registry = createRegistry();
    const calls: string[] = [];
    const stopTransitions = registry.subscribe((t) => calls.push(`transition:${t.to}`));
    const stopReleases = registry.onRelease((c) => calls.push(`release:${c.outcome}`));
    stopTransitions();
    const a = registry.open();
    registry.dispatch(a, { type: 'FINISH' });
    registry.subscribe((t) => calls.push(`transition2:${t.to}`));
    stopReleases();
    const b = registry.open();
    registry.dispatch(b, { type: 'ERROR', reason: 'timeout' });
    expect(calls).toEqual(['release:finished', 'transition2:errored']);
  });

  it('a registry with no listeners and no onRecord calls nothing: onListenerError never hears of a failure', () => {
    const failures: unknown[] = [];
    const registry = createRegistry({ onListenerError: (error) => failures.push(error) });
    const id = registry.open();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, { type: 'FINISH' });
    expect(failures).toEqual([]);
    expect(registry.stats().released.finished).toBe(1);
  });
});
