import fc from 'fast-check';
import { createRegistry, type ConnectionEvent } from '@lifeline/core';
import { describe, expect, it } from 'vitest';

// With the default clock, no journal and nothing listening, the registry skips reading the clock for a release
// (nothing could see that time). These tests pin that whoever does watch still gets the release and its time,
// however the watching started: before or after the connection opened, through a release listener, a transition
// listener or a handle, with the journal on or off, and after other watchers came and went.

const HEADERS: ConnectionEvent = { type: 'HEADERS', status: 200 };
const ENDINGS: readonly ConnectionEvent[] = [{ type: 'FINISH' }, { type: 'CLOSE', reason: 'aborted' }, { type: 'ERROR', reason: 'timeout' }];

type Watcher = 'release' | 'transition' | 'handle';

interface Scenario {
  readonly journalSize: 0 | 8;
  /** Watchers subscribed before the connection opens. */
  readonly before: readonly Watcher[];
  /** Watchers subscribed after it opened (and after its HEADERS when `streaming`). */
  readonly after: readonly Watcher[];
  /** A release listener subscribed and unsubscribed again before the end. */
  readonly cameAndWent: boolean;
  readonly streaming: boolean;
  readonly ending: ConnectionEvent;
}

const scenarios: fc.Arbitrary<Scenario> = fc.record({
  journalSize: fc.constantFrom(0 as const, 8 as const),
  before: fc.array(fc.constantFrom<Watcher>('release', 'transition'), { maxLength: 2 }),
  after: fc.array(fc.constantFrom<Watcher>('release', 'transition', 'handle'), { maxLength: 3 }),
  cameAndWent: fc.boolean(),
  streaming: fc.boolean(),
  ending: fc.constantFrom(...ENDINGS),
});

describe('release time', () => {
  it('every watcher of a release hears it once, with a time taken during the ending dispatch, whatever watched and when', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const registry = createRegistry({ journalSize: s.journalSize });
        const heard: { watcher: Watcher; at: number; duration?: number; openedAt?: number }[] = [];
        const watch = (watcher: Watcher, id?: number) => {
          if (watcher === 'release') registry.onRelease((r) => heard.push({ watcher, at: r.releasedAt, duration: r.duration, openedAt: r.openedAt }));
          else if (watcher === 'transition') registry.subscribe((t) => (t.to === 'open' || t.to === 'streaming' ? undefined : heard.push({ watcher, at: t.at })));
          else registry.handle(id!)!.onEnd(() => heard.push({ watcher, at: Number.NaN }));
        };
        for (const w of s.before) watch(w);
        const id = registry.open();
        if (s.streaming) registry.dispatch(id, HEADERS);
        for (const w of s.after) watch(w, id);
        if (s.cameAndWent) registry.onRelease(() => heard.push({ watcher: 'release', at: Number.NaN }))();
        const t0 = Date.now();
        registry.dispatch(id, s.ending);
        const t1 = Date.now();

        const expected = [...s.before, ...s.after].filter((w) => w !== 'handle').sort();
        expect(heard.filter((h) => h.watcher !== 'handle').map((h) => h.watcher).sort()).toEqual(expected);
        expect(heard.filter((h) => h.watcher === 'handle')).toHaveLength(s.after.filter((w) => w === 'handle').length);
        for (const h of heard.filter((x) => x.watcher !== 'handle')) {
          expect(h.at).toBeGreaterThanOrEqual(t0);
          expect(h.at).toBeLessThanOrEqual(t1);
          if (h.duration !== undefined) expect(h.duration).toBe(h.at - h.openedAt!);
        }
        expect(registry.size).toBe(0);
        expect(registry.state(id)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('a registry with nothing watching still frees and counts each release, and a listener subscribed later hears the next one', () => {
    const registry = createRegistry({ journalSize: 0 });
    const first = registry.open();
    registry.dispatch(first, { type: 'FINISH' });
    expect(registry.size).toBe(0);
    expect(registry.stats().released).toEqual({ finished: 1, closed: 0, errored: 0 });

    const released: number[] = [];
    const unsubscribe = registry.onRelease((r) => released.push(r.id));
    const second = registry.open();
    registry.dispatch(second, { type: 'CLOSE', reason: 'aborted' });
    unsubscribe();
    const third = registry.open();
    registry.dispatch(third, { type: 'FINISH' });
    expect(released).toEqual([second]);
    expect(registry.stats().released).toEqual({ finished: 2, closed: 1, errored: 0 });
  });

  it('a connection that is not released keeps the time of its last event, with nothing watching', () => {
    const registry = createRegistry({ journalSize: 0 });
    const id = registry.open();
    const openedAt = registry.get(id)!.openedAt;
    const t0 = Date.now();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, { type: 'NOT_AN_EVENT' } as unknown as ConnectionEvent);
    const t1 = Date.now();
    const info = registry.get(id)!;
    expect(info.openedAt).toBe(openedAt);
    expect(info.lastEventAt).toBeGreaterThanOrEqual(t0);
    expect(info.lastEventAt).toBeLessThanOrEqual(t1);
  });

  it('with the default clock, every onRecord record carries a time taken during its own call', () => {
    const records: { kind: string; at: number; t0: number }[] = [];
    let t0 = 0;
    const registry = createRegistry({ journalSize: 0, onRecord: (r) => records.push({ kind: r.kind, at: r.at, t0 }) });
    t0 = Date.now();
    const id = registry.open();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, { type: 'FINISH' });
    registry.dispatch(id, { type: 'FINISH' }); // late: recorded too
    const t1 = Date.now();
    expect(records.map((r) => r.kind)).toEqual(['open', 'event', 'event', 'event']);
    for (const r of records) {
      expect(r.at).toBeGreaterThanOrEqual(r.t0);
      expect(r.at).toBeLessThanOrEqual(t1);
    }
  });

  it('a clock given as an option is read for every event, the ending one included, as before', () => {
    let reads = 0;
    const registry = createRegistry({ journalSize: 0, clock: () => ++reads });
    const id = registry.open();
    registry.dispatch(id, HEADERS);
    registry.dispatch(id, { type: 'FINISH' });
    registry.dispatch(id, { type: 'FINISH' }); // late: still a read, as every dispatch does with a clock option
    expect(reads).toBe(4);
  });
});
