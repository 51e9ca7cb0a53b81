import { describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError } from '../src/errors.js';
import { toErrorInfo } from '../src/events.js';
import { createRegistry, type ReleasedConnection } from '../src/registry.js';
import { fakeClockRegistry } from './fixtures.js';

describe('createRegistry options', () => {
  it.each([
    [{ journalSize: -1 }, /option "journalSize"/],
    [{ journalSize: 1.5 }, /option "journalSize"/],
    [{ clock: 5 }, /option "clock": expected a function returning the time in milliseconds/],
    [{ onListenerError: 'log' }, /option "onListenerError": expected a function \(error, context\) => void, received the string "log"/],
    [{ onRecord: {} }, /option "onRecord": expected a function \(record\) => void/],
    [{ transport: 2 }, /option "transport": expected a string, received the number 2/],
    [{ jurnalSize: 3 }, /unknown option "jurnalSize"/],
  ])('rejects %j with a message naming the option', (options, message) => {
    expect(() => createRegistry(options as never)).toThrow(InvalidOptionsError);
    expect(() => createRegistry(options as never)).toThrow(message);
  });

  it('error has a stable code and lists the options', () => {
    try {
      createRegistry({ journalSize: -1, clock: 1 } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: 'InvalidOptionsError', code: 'LIFELINE_INVALID_OPTIONS' });
      expect([...(error as InvalidOptionsError).options].sort()).toEqual(['clock', 'journalSize']);
    }
  });

  it('an option error names createRegistry, the function that was called', () => {
    expect(() => createRegistry({ journalSize: 5_000 })).toThrow(/^createRegistry: invalid options: option "journalSize": expected a whole number from 0 to 4096/);
  });

  it('defaults: Date.now clock, journal of 8, accepts no options at all', () => {
    const registry = createRegistry();
    const before = Date.now();
    const id = registry.open();
    expect(registry.get(id)!.openedAt).toBeGreaterThanOrEqual(before);
    let journal: readonly unknown[] = [];
    registry.onRelease((c) => (journal = c.journal));
    for (let i = 0; i < 20; i++) registry.dispatch(id, { type: 'DATA', bytesSent: i });
    registry.dispatch(id, { type: 'FINISH' });
    expect(journal).toHaveLength(8);
  });
});

describe('registry', () => {
  it('releases at the first terminal fact with outcome, duration, bytes, meta and journal', () => {
    const { registry, clock } = fakeClockRegistry({ journalSize: 3 });
    const released: ReleasedConnection[] = [];
    registry.onRelease((c) => released.push(c));
    const id = registry.open({ transport: 'http2', meta: { url: '/file' } });
    clock.now += 5;
    registry.dispatch(id, { type: 'HEADERS', status: 200 });
    registry.dispatch(id, { type: 'DATA', bytesSent: 100 });
    registry.dispatch(id, { type: 'REQUEST_END' });
    clock.now += 10;
    const error = toErrorInfo(Object.assign(new Error('gone'), { code: 'ENOENT' }));
    expect(registry.dispatch(id, { type: 'ERROR', reason: 'stream-error', error })).toBe('errored');
    expect(registry.dispatch(id, { type: 'FINISH' })).toBeUndefined();
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({
      id,
      outcome: 'errored',
      transport: 'http2',
      meta: { url: '/file' },
      openedAt: 1_000,
      releasedAt: 1_015,
      duration: 15,
      bytesSent: 100,
      event: { type: 'ERROR', reason: 'stream-error', error: { name: 'Error', message: 'gone', code: 'ENOENT' } },
    });
    expect(released[0]!.journal.map((j) => j.event.type)).toEqual(['DATA', 'REQUEST_END', 'ERROR']);
    expect(registry.stats()).toEqual({
      opened: 1,
      inFlight: 0,
      released: { finished: 0, closed: 0, errored: 1 },
      lateEvents: 1,
      unknownEvents: 0,
      ignoredEvents: 0,
    });
  });

  it('an open record in the event log has a meta key only when the connection was opened with meta', () => {
    const records: unknown[] = [];
    const { registry } = fakeClockRegistry({ onRecord: (r) => records.push(r) });
    registry.open({ transport: 'http2' });
    registry.open({ meta: { route: '/a' } });
    expect(records).toStrictEqual([
      { seq: 1, id: 1, at: 1_000, kind: 'open', transport: 'http2' },
      { seq: 2, id: 2, at: 1_000, kind: 'open', transport: 'http1', meta: { route: '/a' } },
    ]);
    expect(Object.keys(records[0]!)).not.toContain('meta');
  });

  it('journal 0 is off: release listeners get an empty journal', () => {
    const { registry } = fakeClockRegistry({ journalSize: 0 });
    const journals: number[] = [];
    registry.onRelease((c) => journals.push(c.journal.length));
    registry.dispatch(registry.open(), { type: 'FINISH' });
    expect(journals).toEqual([0]);
  });

  it('the entry has left the registry when release listeners run, and they may dispatch again', () => {
    const { registry } = fakeClockRegistry();
    const seen: unknown[] = [];
    registry.onRelease((c) => {
      seen.push(registry.state(c.id), registry.size, registry.dispatch(c.id, { type: 'FINISH' }));
    });
    registry.dispatch(registry.open(), { type: 'CLOSE', reason: 'aborted' });
    expect(seen).toEqual([undefined, 0, undefined]);
    expect(registry.stats().lateEvents).toBe(1);
  });

  it('a throwing subscriber, release listener or record sink is reported and the release still happens once', () => {
    const reported: unknown[] = [];
    const { registry } = fakeClockRegistry({
      onListenerError: (error, context) => reported.push([(error as Error).message, context]),
      onRecord: () => {
        throw new Error('disk full');
      },
    });
    const releases: number[] = [];
    registry.subscribe(() => {
      throw new Error('subscriber');
    });
    registry.onRelease(() => {
      throw new Error('release');
    });
    registry.onRelease((c) => releases.push(c.id));
    const id = registry.open();
    expect(registry.dispatch(id, { type: 'FINISH' })).toBe('finished');
    expect(releases).toEqual([id]);
    expect(registry.size).toBe(0);
    expect(reported).toEqual([
      ['disk full', { listener: 'record', connectionId: id }],
      ['disk full', { listener: 'record', connectionId: id }],
      ['subscriber', { listener: 'transition', connectionId: id }],
      ['release', { listener: 'release', connectionId: id }],
    ]);
  });

  it('a throwing onListenerError falls back to stderr instead of throwing', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { registry } = fakeClockRegistry({
      onListenerError: () => {
        throw new Error('reporter broke');
      },
    });
    registry.onRelease(() => {
      throw new Error('release');
    });
    expect(() => registry.dispatch(registry.open(), { type: 'FINISH' })).not.toThrow();
    expect(spy).toHaveBeenCalledOnce();
    expect(String(spy.mock.calls[0]![0])).toMatch(/release listener threw for connection 1/);
    spy.mockRestore();
  });

  it('subscribers see from/to/handled; unsubscribing inside a listener is safe', () => {
    const { registry } = fakeClockRegistry();
    const seen: string[] = [];
    const off = registry.subscribe((t) => {
      seen.push(`${t.from}>${t.to}:${t.event.type}:${t.handled}`);
      if (t.to === 'finished') off();
    });
    const id = registry.open();
    registry.dispatch(id, { type: 'HEADERS' });
    registry.dispatch(id, { type: 'HEADERS' });
    registry.dispatch(id, { type: 'FINISH' });
    registry.dispatch(registry.open(), { type: 'FINISH' });
    expect(seen).toEqual(['open>streaming:HEADERS:true', 'streaming>streaming:HEADERS:false', 'streaming>finished:FINISH:true']);
  });

  it('list filters by state, transport, age and idleness, oldest first', () => {
    const { registry, clock } = fakeClockRegistry();
    const a = registry.open({ transport: 'http1' });
    clock.now += 1_000;
    const b = registry.open({ transport: 'http2' });
    registry.dispatch(b, { type: 'HEADERS' });
    clock.now += 500;
    registry.dispatch(a, { type: 'DATA', bytesSent: 1 });
    const ids = (f: Parameters<typeof registry.list>[0]) => registry.list(f).map((c) => c.id);
    expect(ids(undefined)).toEqual([a, b]);
    expect(ids({ state: 'streaming' })).toEqual([a, b]);
    expect(ids({ state: ['open'] })).toEqual([]);
    expect(ids({ transport: 'http2' })).toEqual([b]);
    expect(ids({ olderThan: 1_200 })).toEqual([a]);
    expect(ids({ idleFor: 400 })).toEqual([b]);
    expect(registry.get(a)).toMatchObject({ state: 'streaming', bytesSent: 1, lastEventAt: 2_500 });
  });

  it('toErrorInfo keeps name, message and a string code; describes non-errors', () => {
    expect(toErrorInfo(new TypeError('x'))).toEqual({ name: 'TypeError', message: 'x' });
    expect(toErrorInfo(Object.assign(new Error('y'), { code: 42 }))).toEqual({ name: 'Error', message: 'y' });
    expect(toErrorInfo('str')).toEqual({ name: 'NonError', message: 'str' });
  });
});
