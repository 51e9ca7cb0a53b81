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
const replayLines = (lines: readonly string[]) => replay(lines, { clock: () => 100 });
const baseline = replayLines(soundLines);

describe('replay skips a record that is not sound, wherever it stands, and applies everything else', () => {
  it('the sound log alone applies every line without a problem', () => {
    expect(baseline.problems).toEqual([]);
    expect(baseline.applied).toBe(6);
    expect(baseline.registry.list().map((c) => [c.id, c.state])).toEqual([
      [2, 'streaming'],
      [3, 'open'],
    ]);
  });

  it.each(badRecords)('%s: reported at its line and skipped, at every position in the log', (_what, bad) => {
    for (let at = 0; at <= soundLines.length; at++) {
      const lines = [...soundLines.slice(0, at), bad, ...soundLines.slice(at)];
      const result = replayLines(lines);
      expect(result.problems, `inserted as line ${at + 1}`).toEqual([
        { line: at + 1, reason: expect.stringMatching(/^not a log record: /), skipped: true },
      ]);
      expect(view(result.registry)).toEqual(view(baseline.registry));
      expect([result.applied, result.lastAt]).toEqual([6, 15]);
    }
  });

  it('a line that is not JSON at all is reported as such and skipped', () => {
    const result = replayLines([soundLines[0]!, '{"seq": 2,', ...soundLines.slice(1)]);
    expect(result.problems).toEqual([{ line: 2, reason: expect.stringMatching(/^not JSON: /), skipped: true }]);
    expect(view(result.registry)).toEqual(view(baseline.registry));
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
      { line: 7, reason: `seq ${seq} does not follow 6 (duplicate or out-of-order line)`, skipped: true },
    ]);
    expect(result.applied).toBe(7);
    expect(result.registry.stats().released.closed).toBe(1);
    expect(result.lastAt).toBe(20);
  });

  it('reports a gap with the count of missing records, applies the line, and goes on from its seq', () => {
    const result = replayLines([...soundLines, closeTwoWithSeq(9), JSON.stringify({ seq: 10, id: 3, at: 21, kind: 'event', event: { type: 'HEADERS' } })]);
    expect(result.problems).toEqual([{ line: 7, reason: 'seq jumps from 6 to 9: 2 record(s) missing', skipped: false }]);
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
    expect(result.problems).toContainEqual({ line: 1, reason: expect.stringMatching(/applied by its event type/), skipped: false });
  });

  it('applies it to the connection it names: an odd CLOSE still releases', () => {
    const oddClose = JSON.stringify({ ...closeTwo, event: { type: 'CLOSE', reason: 'whatever' } });
    const result = replayLines([...soundLines, oddClose]);
    expect(result.problems).toEqual([{ line: 7, reason: expect.stringMatching(/applied by its event type/), skipped: false }]);
    expect(result.registry.list().map((c) => c.id)).toEqual([3]);
    expect(result.registry.stats().released.closed).toBe(1);
  });
});
