import type { LogRecord, Registry } from '@lifeline/core';
import { replay } from '@lifeline/core/replay';
import { describe, expect, it } from 'vitest';

// A replay reads logs written by other processes, so every line is checked before it is applied. A line
// that is not a sound record is reported with its line number and skipped; the lines around it are applied
// exactly as if it were not there.

const sound: LogRecord[] = [
  { seq: 1, id: 1, at: 10, kind: 'open', transport: 'http1' },
  { seq: 2, id: 2, at: 11, kind: 'open', transport: 'http2', meta: { url: '/b' } },
  { seq: 3, id: 1, at: 12, kind: 'event', event: { type: 'HEADERS', status: 200 } },
  { seq: 4, id: 2, at: 13, kind: 'event', event: { type: 'DATA', bytesSent: 5 } },
  { seq: 5, id: 1, at: 14, kind: 'event', event: { type: 'FINISH', bytesSent: 10 } },
  { seq: 6, id: 3, at: 15, kind: 'open', transport: 'http1' },
];
const soundLines = sound.map((r) => JSON.stringify(r));

/** A record that would release connection 2 if it were applied; each bad line below breaks one thing of it. */
const closeTwo = { seq: 7, id: 2, at: 20, kind: 'event', event: { type: 'CLOSE', reason: 'reset' } };
const broken = (change: Record<string, unknown>, drop?: keyof typeof closeTwo) => {
  const record: Record<string, unknown> = { ...closeTwo, ...change };
  if (drop !== undefined) delete record[drop];
  return JSON.stringify(record);
};

const badRecords: [string, string][] = [
  ['a fractional seq', broken({ seq: 7.5 })],
  ['a seq of 0', broken({ seq: 0 })],
  ['a negative seq', broken({ seq: -3 })],
  ['a seq given as a string', broken({ seq: '7' })],
  ['a seq beyond the safe integers', broken({ seq: 2 ** 53 + 2 })],
  ['no seq', broken({}, 'seq')],
  ['an id given as a string', broken({ id: '2' })],
  ['a null id', broken({ id: null })],
  ['no id', broken({}, 'id')],
  ['a time given as a string', broken({ at: '20' })],
  ['no time', broken({}, 'at')],
  ['a null event', broken({ event: null })],
  ['an event given as a string', broken({ event: 'CLOSE' })],
  ['no event', broken({}, 'event')],
  ['an event of unknown type', broken({ event: { type: 'EXPLODE', reason: 'reset' } })],
  ['an event without a type', broken({ event: { reason: 'reset' } })],
  ['an unknown kind', broken({ kind: 'sideways' })],
  ['no kind', broken({}, 'kind')],
  ['an open record without a transport', broken({ kind: 'open' })],
  ['null', 'null'],
  ['a number', '5'],
  ['a string', '"CLOSE"'],
  ['an array', '[7, 2, 20]'],
];

const view = (registry: Registry) => ({ inFlight: registry.list(), stats: registry.stats() });
const replayLines = (lines: readonly string[], options: { journalSize?: number } = {}) =>
  replay(lines, { ...options, clock: () => 100 });

describe('replay skips a record that is not sound, wherever it stands, and applies everything else', () => {
  it('the sound log alone applies every line without a problem, at the times the records carry', () => {
    const baseline = replayLines(soundLines);
    expect(baseline.problems).toEqual([]);
    expect([baseline.applied, baseline.lastAt]).toEqual([6, 15]);
    expect(baseline.registry.list().map((c) => [c.id, c.state, c.openedAt, c.lastEventAt, c.bytesSent, c.meta])).toEqual([
      [2, 'streaming', 11, 13, 5, { url: '/b' }],
      [3, 'open', 15, 15, 0, undefined],
    ]);
  });

  it('leaves a registry on the given clock that opens new connections after the highest logged id', () => {
    const { registry } = replayLines(soundLines);
    const id = registry.open();
    expect(id).toBe(4);
    expect(registry.get(id)).toMatchObject({ openedAt: 100, lastEventAt: 100 });
    expect(registry.list({ olderThan: 85 }).map((c) => c.id)).toEqual([2, 3]);
  });

  it('gives the restored registry the journal size asked for, holding replayed events', () => {
    const { registry } = replayLines(soundLines, { journalSize: 2 });
    const journals: unknown[] = [];
    registry.onRelease((c) => journals.push(c.journal));
    registry.dispatch(2, { type: 'FINISH' });
    expect(journals).toEqual([
      [
        { at: 13, event: { type: 'DATA', bytesSent: 5 } },
        { at: 100, event: { type: 'FINISH' } },
      ],
    ]);
  });

  it('refuses an open record whose id is not an integer, and opens the next one as usual', () => {
    const fractional = JSON.stringify({ seq: 7, id: 4.5, at: 16, kind: 'open', transport: 'http1' });
    const next = JSON.stringify({ seq: 7, id: 5, at: 17, kind: 'open', transport: 'http1' });
    const result = replayLines([...soundLines, fractional, next]);
    expect(result.problems).toEqual([{ kind: 'reopened', line: 7, reason: 'connection 4.5 is opened again or out of order', skipped: true }]);
    expect(result.registry.list().map((c) => c.id)).toEqual([2, 3, 5]);
  });

  it('names the offending field in the reason', () => {
    const fields = ['seq', 'id', 'at', 'kind'] as const;
    const reasons = fields.map((field) => replayLines([broken({}, field)]).problems[0]!.reason);
    fields.forEach((field, i) => expect(reasons[i]).toMatch(new RegExp(`^not a log record: .*\\b${field}\\b`)));
    expect(replayLines([broken({ event: { type: 'CLOSE', reason: 'reset', bytesSent: -1 } })]).problems[0]!.reason).toMatch(
      /event\.bytesSent/,
    );
  });

  it.each(badRecords)('%s: reported at its line and skipped, at every position in the log', (_what, bad) => {
    const baseline = replayLines(soundLines);
    for (let at = 0; at <= soundLines.length; at++) {
      const lines = [...soundLines.slice(0, at), bad, ...soundLines.slice(at)];
      const result = replayLines(lines);
      expect(result.problems, `inserted as line ${at + 1}`).toEqual([
        { kind: 'not-a-record', line: at + 1, reason: expect.stringMatching(/^not a log record: /), skipped: true },
      ]);
      expect(view(result.registry)).toEqual(view(baseline.registry));
      expect([result.applied, result.lastAt]).toEqual([6, 15]);
    }
  });

  it('a line that is not JSON at all is reported as such and skipped', () => {
    const result = replayLines([soundLines[0]!, '{"seq": 2,', ...soundLines.slice(1)]);
    expect(result.problems).toEqual([{ kind: 'not-json', line: 2, reason: expect.stringMatching(/^not JSON: /), skipped: true }]);
    expect(view(result.registry)).toEqual(view(replayLines(soundLines).registry));
  });

  it('blank and whitespace-only lines are passed over silently but still count for line numbers', () => {
    const result = replayLines([soundLines[0]!, '', '   ', '\t', ...soundLines.slice(1), broken({ seq: 0 })]);
    expect(result.problems.map((p) => [p.line, p.skipped])).toEqual([[10, true]]);
    expect(result.applied).toBe(6);
  });
});

describe('replay checks the order of seq', () => {
  const closeTwoWithSeq = (seq: number) => JSON.stringify({ ...closeTwo, seq });

  it.each([
    ['going backwards', 3],
    ['repeating the last one', 6],
  ])('refuses a sound record whose seq is %s, and applies the next in-order line without a gap', (_what, seq) => {
    const result = replayLines([...soundLines, closeTwoWithSeq(seq), closeTwoWithSeq(7)]);
    expect(result.problems).toEqual([
      { kind: 'out-of-order', line: 7, reason: `seq ${seq} does not follow 6 (duplicate or out-of-order line)`, skipped: true },
    ]);
    expect(result.applied).toBe(7);
    expect(result.registry.stats().released.closed).toBe(1);
    expect(result.lastAt).toBe(20);
  });

  it('reports a gap with the count of missing records, applies the line, and goes on from its seq', () => {
    const result = replayLines([...soundLines, closeTwoWithSeq(9), JSON.stringify({ seq: 10, id: 3, at: 21, kind: 'event', event: { type: 'HEADERS' } })]);
    expect(result.problems).toEqual([{ kind: 'gap', line: 7, reason: 'seq jumps from 6 to 9: 2 record(s) missing', skipped: false }]);
    expect(result.applied).toBe(8);
    expect(result.registry.list().map((c) => [c.id, c.state])).toEqual([[3, 'streaming']]);
  });

  it('a record following its predecessor by exactly one is no gap', () => {
    expect(replayLines([...soundLines, closeTwoWithSeq(7)]).problems).toEqual([]);
  });
});

describe('replay applies an event record with odd fields by its type, as the live registry did', () => {
  it('accepts the smallest seq, 1, on that path', () => {
    const odd = JSON.stringify({ seq: 1, id: 1, at: 5, kind: 'event', event: { type: 'FINISH', bytesSent: 1.5 } });
    const result = replayLines([odd]);
    expect(result.applied).toBe(1);
    expect(result.problems).toContainEqual({ kind: 'applied-leniently', line: 1, reason: expect.stringMatching(/applied by its event type/), skipped: false });
  });

  it('applies it to the connection it names: an odd CLOSE still releases', () => {
    const oddClose = JSON.stringify({ ...closeTwo, event: { type: 'CLOSE', reason: 'whatever' } });
    const result = replayLines([...soundLines, oddClose]);
    expect(result.problems).toEqual([{ kind: 'applied-leniently', line: 7, reason: expect.stringMatching(/applied by its event type/), skipped: false }]);
    expect(result.registry.list().map((c) => c.id)).toEqual([3]);
    expect(result.registry.stats().released.closed).toBe(1);
  });
});
