import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toNdjsonLine, type LogRecord } from '../src/log.js';
import type { Registry } from '../src/registry.js';
import { logRecordSchema } from '../src/logSchemas.js';
import { createReplayer, replay } from '../src/replay.js';
import { registryScriptArbitrary, runRegistryScript } from '../src/testing/index.js';
import { fakeClockRegistry } from './fixtures.js';

function liveWithLog() {
  const log: string[] = [];
  const { registry, clock } = fakeClockRegistry({ onRecord: (r) => log.push(toNdjsonLine(r)) });
  return { registry, clock, log };
}

const view = (registry: Registry) => ({ inFlight: registry.list(), stats: registry.stats() });

describe('replaying the log reproduces the live registry', () => {
  it('gives the same in-flight set, states, timestamps and stats for any generated run', () => {
    fc.assert(
      fc.property(registryScriptArbitrary({ maxSteps: 80 }), (script) => {
        const { registry, clock, log } = liveWithLog();
        runRegistryScript(registry, script, clock);
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
        runRegistryScript(registry, script, clock);
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
    expect(problems.map((p) => [p.line, p.kind, p.skipped])).toEqual([
      [2, 'not-json', true],
      [4, 'not-a-record', true],
      [5, 'not-a-record', true],
      [9, 'out-of-order', true],
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
    expect(replayed.problems.map((p) => [p.line, p.kind, p.skipped])).toEqual([
      [3, 'applied-leniently', false],
      [4, 'applied-leniently', false],
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
    expect(problems).toEqual([{ kind: 'gap', line: 2, reason: 'seq jumps from 1 to 7: 5 record(s) missing', skipped: false }]);
    expect(applied).toBe(2);
  });

  it('refuses a connection opened twice', () => {
    const { problems } = replay([lines[0]!, lines[0]!.replace('"seq":1', '"seq":2')]);
    expect(problems).toEqual([{ kind: 'reopened', line: 2, reason: 'connection 1 is opened again or out of order', skipped: true }]);
  });

  it('an empty log gives an empty registry', () => {
    const { registry, problems, applied, lastAt } = replay('');
    expect([registry.size, problems.length, applied, lastAt]).toEqual([0, 0, 0, undefined]);
  });

  it('an empty log leaves a registry running on the given clock', () => {
    const { registry } = replay('', { clock: () => 42 });
    const id = registry.open();
    expect(registry.get(id)).toMatchObject({ openedAt: 42, lastEventAt: 42 });
  });

  it("a line that is not an object at all gets zod's message alone as its reason, with no field path", () => {
    const { message } = logRecordSchema.safeParse(5).error!.issues[0]!;
    expect(replay(['5']).problems).toEqual([{ kind: 'not-a-record', line: 1, reason: `not a log record: ${message}`, skipped: true }]);
  });

  it('names every offending field of a record, each with its own message', () => {
    const line = { seq: 0, id: 1, at: 'later', kind: 'open', transport: 'tcp' };
    const issues = logRecordSchema.safeParse(line).error!.issues;
    expect(issues.map((i) => i.path)).toEqual([['seq'], ['at']]);
    expect(replay([JSON.stringify(line)]).problems[0]!.reason).toBe(
      `not a log record: seq: ${issues[0]!.message}; at: ${issues[1]!.message}`,
    );
  });

  it('lists the problems in line order, whatever kind they are', () => {
    const log = [
      JSON.stringify({ seq: 5, id: 2, at: 1, kind: 'event', event: { type: 'DATA', bytesSent: 1 } }),
      '{not json',
      JSON.stringify({ seq: 9, id: 3, at: 2, kind: 'open', transport: 'tcp' }),
      JSON.stringify({ seq: 10, id: 1, at: 3, kind: 'event', event: { type: 'FINISH' } }),
      'null',
    ];
    expect(replay(log).problems.map((p) => [p.line, p.kind])).toEqual([
      [1, 'missing-head'],
      [1, 'never-opened'],
      [2, 'not-json'],
      [3, 'gap'],
      [4, 'never-opened'],
      [5, 'not-a-record'],
    ]);
  });
});

const ENDS = new Set(['FINISH', 'CLOSE', 'ERROR']);

describe('replay of a log whose first lines are missing', () => {
  it('reports exactly the connections whose open was cut off and that still have events, naming their lines, and counts only the rest as late or unknown', () => {
    fc.assert(
      fc.property(registryScriptArbitrary({ maxSteps: 60 }), fc.nat(), (script, cutSeed) => {
        const { registry, clock, log } = liveWithLog();
        runRegistryScript(registry, script, clock);
        const k = cutSeed % (log.length + 1);
        const records = log.map((line) => JSON.parse(line) as LogRecord);
        const opened = (rs: LogRecord[]) => new Set(rs.filter((r) => r.kind === 'open').map((r) => r.id));
        const cut = opened(records.slice(0, k));
        const kept = opened(records.slice(k));
        // The expected report, from the records alone: lines (1-based in the cut log) of each cut connection's events;
        // late events are those after a connection's first ending in the kept log; unknown ones go to ids never opened.
        const expected = new Map<number, number[]>();
        const ended = new Set<number>();
        let late = 0;
        let unknown = 0;
        records.slice(k).forEach((r, i) => {
          if (r.kind !== 'event') return;
          if (cut.has(r.id)) expected.set(r.id, [...(expected.get(r.id) ?? []), i + 1]);
          else if (!kept.has(r.id)) unknown++;
          else if (ended.has(r.id)) late++;
          else if (ENDS.has(r.event.type)) ended.add(r.id);
        });

        const replayed = replay(log.slice(k).join(''), { clock: () => clock.now });
        const neverOpened = replayed.problems.filter((p) => p.kind === 'never-opened');
        const others = replayed.problems.filter((p) => p.kind !== 'never-opened').map((p) => p.kind);
        expect(neverOpened.map((p) => p.id)).toEqual([...expected.keys()]);
        for (const p of neverOpened) {
          const lines = expected.get(p.id!)!;
          expect([p.line, p.lines, p.events, p.skipped]).toEqual([lines[0], lines.slice(0, 10), lines.length, true]);
          expect(p.reason).toContain(`connection ${p.id} was never opened in this log`);
        }
        expect(others).toEqual(k > 0 && k < log.length ? ['missing-head'] : []);
        expect(replayed.registry.list()).toEqual(registry.list().filter((c) => !cut.has(c.id)));
        const stats = replayed.registry.stats();
        expect([stats.lateEvents, stats.unknownEvents]).toEqual([late, unknown]);
      }),
      { numRuns: 500 },
    );
  });

  it('says how a cut-off connection ended, so that an errored one does not disappear', () => {
    const log = [
      { seq: 3, id: 1, at: 5, kind: 'event', event: { type: 'HEADERS', status: 200 } },
      { seq: 4, id: 3, at: 6, kind: 'open', transport: 'websocket' },
      { seq: 5, id: 1, at: 7, kind: 'event', event: { type: 'ERROR', reason: 'stream-error', error: { name: 'Error', message: 'boom' } } },
      { seq: 6, id: 1, at: 8, kind: 'event', event: { type: 'FINISH' } },
      { seq: 7, id: 3, at: 9, kind: 'event', event: { type: 'FINISH' } },
      { seq: 8, id: 3, at: 10, kind: 'event', event: { type: 'DATA', bytesSent: 1 } },
    ].map((r) => JSON.stringify(r));
    const { problems, registry, applied } = replay(log);
    expect(problems).toEqual([
      { kind: 'missing-head', line: 1, reason: 'the log starts at seq 3: the 2 record(s) before it are missing', skipped: false },
      {
        kind: 'never-opened',
        line: 1,
        reason:
          'connection 1 was never opened in this log (its open record is before the first line (the head of the log is missing)): ' +
          'its 3 event(s) were not applied, at line(s) 1, 3, 4; it ended with ERROR at line 3',
        skipped: true,
        id: 1,
        lines: [1, 3, 4],
        events: 3,
      },
    ]);
    expect(applied).toBe(3);
    // The genuine late event (DATA after connection 3's FINISH) is still counted as late; the cut one's are not.
    expect([registry.stats().lateEvents, registry.stats().released.finished, registry.stats().released.errored]).toEqual([1, 1, 0]);
  });

  it('lists at most 10 lines of a cut-off connection and says how many more there are', () => {
    const log = Array.from({ length: 25 }, (_, i) => JSON.stringify({ seq: 10 + i, id: 2, at: i, kind: 'event', event: { type: 'DATA', bytesSent: i } }));
    const [head, orphan] = replay(log).problems;
    expect(head!.kind).toBe('missing-head');
    expect([orphan!.lines, orphan!.events]).toEqual([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 25]);
    expect(orphan!.reason).toMatch(/at line\(s\) 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 15 more; none of them ends it$/);
  });

  it('tells a cut-off connection from an id never issued by the first open that follows', () => {
    const log = [
      { seq: 10, id: 2, at: 1, kind: 'event', event: { type: 'DATA', bytesSent: 1 } },
      // Id 5 is below this record's seq but at or above the first open's id (3): never issued when it was sent.
      { seq: 11, id: 5, at: 2, kind: 'event', event: { type: 'FINISH' } },
      { seq: 12, id: 40, at: 3, kind: 'event', event: { type: 'FINISH' } },
      { seq: 13, id: 3, at: 4, kind: 'open', transport: 'tcp' },
    ].map((r) => JSON.stringify(r));
    const { problems, registry } = replay(log);
    expect(problems.map((p) => [p.kind, p.id])).toEqual([
      ['missing-head', undefined],
      ['never-opened', 2],
    ]);
    expect([registry.stats().unknownEvents, registry.stats().lateEvents, registry.size]).toEqual([2, 0, 1]);
  });

  it('a complete log whose first open is not id 1 says the open of a lower id is missing from the log, not cut off with its head', () => {
    const log = [
      { seq: 1, id: 3, at: 1, kind: 'open', transport: 'tcp' },
      { seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'CLOSE', reason: 'reset' } },
    ].map((r) => JSON.stringify(r));
    expect(replay(log).problems).toEqual([
      {
        kind: 'never-opened',
        line: 2,
        reason: 'connection 1 was never opened in this log (its open record is missing from the log): its 1 event(s) were not applied, at line(s) 2; it ended with CLOSE at line 2',
        skipped: true,
        id: 1,
        lines: [2],
        events: 1,
      },
    ]);
  });

  it('a complete log whose events reach ids below their seq before any open counts them as unknown: nothing was cut off', () => {
    const log = [
      { seq: 1, id: 9, at: 1, kind: 'event', event: { type: 'DATA', bytesSent: 1 } },
      { seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'FINISH' } },
    ].map((r) => JSON.stringify(r));
    const { problems, registry } = replay(log);
    expect(problems).toEqual([]);
    expect(registry.stats().unknownEvents).toBe(2);
  });

  it('an event of a headless log to an id equal to its seq went to an id not issued yet: unknown, not cut off', () => {
    const log = [JSON.stringify({ seq: 5, id: 5, at: 1, kind: 'event', event: { type: 'FINISH' } })];
    const { problems, registry } = replay(log);
    expect(problems.map((p) => p.kind)).toEqual(['missing-head']);
    expect(registry.stats().unknownEvents).toBe(1);
  });

  it('an event of a headless log to the id the first open then opens went to an id not issued yet: unknown, not cut off', () => {
    const log = [
      { seq: 10, id: 1, at: 1, kind: 'event', event: { type: 'DATA', bytesSent: 1 } },
      { seq: 11, id: 1, at: 2, kind: 'open', transport: 'tcp' },
    ].map((r) => JSON.stringify(r));
    const { problems, registry } = replay(log);
    expect(problems.map((p) => p.kind)).toEqual(['missing-head']);
    expect([registry.stats().unknownEvents, registry.list().map((c) => [c.id, c.state])]).toEqual([1, [[1, 'open']]]);
  });

  it('an open record with an id no registry issues (fractional, zero) is refused and does not decide the undecided events', () => {
    const log = [
      { seq: 10, id: 5, at: 1, kind: 'event', event: { type: 'DATA', bytesSent: 1 } },
      { seq: 11, id: 4.5, at: 2, kind: 'open', transport: 'tcp' },
      { seq: 12, id: 0, at: 3, kind: 'open', transport: 'tcp' },
      { seq: 13, id: 6, at: 4, kind: 'open', transport: 'tcp' },
    ].map((r) => JSON.stringify(r));
    const { problems, registry } = replay(log);
    expect(problems.map((p) => [p.line, p.kind, p.id])).toEqual([
      [1, 'missing-head', undefined],
      [1, 'never-opened', 5],
      [2, 'reopened', undefined],
      [3, 'reopened', undefined],
      // The refused lines leave a gap, said at the next line taken.
      [4, 'gap', undefined],
    ]);
    expect(registry.stats().unknownEvents).toBe(0);
  });

  it('an event for a connection opened on the restored registry between pushes is applied to it', () => {
    const replayer = createReplayer();
    const { registry } = replayer.result();
    const id = registry.open();
    replayer.push(JSON.stringify({ seq: 5, id, at: 1, kind: 'event', event: { type: 'HEADERS', status: 200 } }));
    expect(replayer.result().problems.map((p) => p.kind)).toEqual(['missing-head']);
    expect(registry.state(id)).toBe('streaming');
  });

  it('a complete log that sends events to ids it never opened reports nothing: those ids were never issued', () => {
    const log = [
      { seq: 1, id: 7, at: 1, kind: 'event', event: { type: 'FINISH' } },
      { seq: 2, id: 1, at: 2, kind: 'open', transport: 'tcp' },
      { seq: 3, id: 0, at: 3, kind: 'event', event: { type: 'FINISH' } },
    ].map((r) => JSON.stringify(r));
    const { problems, registry } = replay(log);
    expect(problems).toEqual([]);
    expect(registry.stats().unknownEvents).toBe(2);
  });
});
