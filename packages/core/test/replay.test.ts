import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toNdjsonLine, type LogRecord } from '../src/log.js';
import type { Registry } from '../src/registry.js';
import { createReplayer, replay } from '../src/replay.js';
import { registryScriptArbitrary } from '../src/testing/index.js';
import { fakeClockRegistry, runScript } from './fixtures.js';

function liveWithLog() {
  const log: string[] = [];
  const { registry, clock } = fakeClockRegistry({ onRecord: (r) => log.push(toNdjsonLine(r)) });
  return { registry, clock, log };
}

const view = (registry: Registry) => ({ inFlight: registry.list(), stats: registry.stats() });

describe('DESIGN invariant 5: replaying the log reproduces the live registry', () => {
  it('gives the same in-flight set, states, timestamps and stats for any generated run', () => {
    fc.assert(
      fc.property(registryScriptArbitrary({ maxSteps: 80 }), (script) => {
        const { registry, clock, log } = liveWithLog();
        runScript(registry, clock, script);
        const replayed = replay(log.join(''), { clock: () => clock.now });
        expect(replayed.problems).toEqual([]);
        expect(view(replayed.registry)).toEqual(view(registry));
      }),
      { numRuns: 1_000 },
    );
  });

  it('gives the same result when lines arrive one at a time, and continues after a prefix', () => {
    fc.assert(
      fc.property(registryScriptArbitrary({ maxSteps: 40 }), fc.nat(), (script, cut) => {
        const { registry, clock, log } = liveWithLog();
        runScript(registry, clock, script);
        const replayer = createReplayer({ clock: () => clock.now });
        const k = log.length === 0 ? 0 : cut % log.length;
        for (const line of log.slice(0, k)) replayer.push(line.trimEnd());
        replayer.result();
        for (const line of log.slice(k)) replayer.push(line.trimEnd());
        expect(view(replayer.result().registry)).toEqual(view(registry));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('replay reports bad lines and keeps the good ones', () => {
  const good: LogRecord[] = [
    { seq: 1, id: 1, at: 10, kind: 'open', transport: 'http1', meta: { url: '/a' } },
    { seq: 2, id: 2, at: 11, kind: 'open', transport: 'http2' },
    { seq: 3, id: 1, at: 12, kind: 'event', event: { type: 'HEADERS', status: 200 } },
    { seq: 4, id: 2, at: 13, kind: 'event', event: { type: 'CLOSE', reason: 'cancelled' } },
  ];
  const lines = good.map((r) => JSON.stringify(r));

  it('names the line number and the reason of each bad line', () => {
    const input = [
      lines[0],
      '{not json',
      lines[1],
      JSON.stringify({ seq: 9, id: 1, at: 1, kind: 'event', event: { type: 'EXPLODE' } }),
      JSON.stringify({ seq: 10, id: 1, at: 1, kind: 'sideways' }),
      lines[2],
      '',
      lines[3],
      lines[3],
    ].join('\n');
    const { registry, problems, applied } = replay(input);
    expect(problems.map((p) => [p.line, p.skipped])).toEqual([
      [2, true],
      [4, true],
      [5, true],
      [9, true],
    ]);
    expect(problems[0]!.reason).toMatch(/^not JSON/);
    expect(problems[1]!.reason).toMatch(/event/);
    expect(problems[2]!.reason).toMatch(/kind/);
    expect(problems[3]!.reason).toMatch(/seq 4 does not follow 4/);
    expect(applied).toBe(4);
    expect(registry.list().map((c) => [c.id, c.state, c.meta])).toEqual([[1, 'streaming', { url: '/a' }]]);
    expect(registry.stats().released.closed).toBe(1);
  });

  it('applies an event of a known type with odd fields, as the live registry did, and says so', () => {
    const log: string[] = [];
    const { registry } = fakeClockRegistry({ onRecord: (r) => log.push(toNdjsonLine(r)) });
    const a = registry.open();
    const b = registry.open();
    // Neither passes the schema; the hot path does not validate, so both were applied live.
    registry.dispatch(a, { type: 'FINISH', bytesSent: 10.5 });
    registry.dispatch(b, { type: 'CLOSE', reason: 'whatever' } as never);
    const replayed = replay(log.join(''));
    expect(replayed.problems.map((p) => [p.line, p.skipped])).toEqual([
      [3, false],
      [4, false],
    ]);
    expect(replayed.problems[0]!.reason).toMatch(/applied by its event type/);
    expect(view(replayed.registry)).toEqual(view(registry));
  });

  it('logs an Error instance given as the error as its name, message and code, not {}', () => {
    const log: string[] = [];
    const { registry } = fakeClockRegistry({ onRecord: (r) => log.push(toNdjsonLine(r)) });
    const id = registry.open();
    const error = Object.assign(new Error('gone'), { code: 'ENOENT' });
    registry.dispatch(id, { type: 'ERROR', reason: 'stream-error', error });
    expect(JSON.parse(log[1]!).event.error).toEqual({ name: 'Error', message: 'gone', code: 'ENOENT' });
    expect(replay(log.join('')).problems).toEqual([]);
  });

  it('reports a gap in seq without skipping the line', () => {
    const { problems, applied } = replay([lines[0]!, lines[2]!.replace('"seq":3', '"seq":7')]);
    expect(problems).toEqual([{ line: 2, reason: 'seq jumps from 1 to 7: 5 record(s) missing', skipped: false }]);
    expect(applied).toBe(2);
  });

  it('refuses a connection opened twice', () => {
    const { problems } = replay([lines[0]!, lines[0]!.replace('"seq":1', '"seq":2')]);
    expect(problems).toEqual([{ line: 2, reason: 'connection 1 is opened again or out of order', skipped: true }]);
  });

  it('an empty log gives an empty registry', () => {
    const { registry, problems, applied, lastAt } = replay('');
    expect([registry.size, problems.length, applied, lastAt]).toEqual([0, 0, 0, undefined]);
  });
});
