import type { ReleasedConnection } from '@lifeline/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Replay from '../src/replay.js';
import { jobTable } from './jobMachine.js';

// The zod schemas of log lines decide what replay takes as a sound record. They are module-level constants, so
// the modules are loaded afresh inside each test: a mutation run then counts their definitions as covered by
// the tests below, which check them, and not only by whichever test happened to load them first.
let replay: typeof Replay.replay;
let createReplayer: typeof Replay.createReplayer;
beforeEach(async () => {
  vi.resetModules();
  ({ replay, createReplayer } = await import('../src/replay.js'));
});

const line = (record: object) => JSON.stringify(record);
const openOne = line({ seq: 1, id: 1, at: 1, kind: 'open', transport: 'http1' });

const soundEvents: [string, object][] = [
  ['HEADERS', { type: 'HEADERS', status: 200, detail: { frame: 1 } }],
  ['DATA', { type: 'DATA', bytesSent: 5 }],
  ['REQUEST_END', { type: 'REQUEST_END', bytesReceived: 3 }],
  ['FINISH', { type: 'FINISH', bytesSent: 10 }],
  ['CLOSE', { type: 'CLOSE', reason: 'reset', code: 'ECONNRESET', bytesSent: 2 }],
  ['ERROR', { type: 'ERROR', reason: 'stream-error', error: { name: 'Error', message: 'boom', code: 'EPIPE' }, bytesSent: 2 }],
];

describe('replay takes a sound line of the connection log as it stands', () => {
  it.each(soundEvents)('a sound %s event after a sound open is applied without a problem', (_type, event) => {
    const result = replay([openOne, line({ seq: 2, id: 1, at: 2, kind: 'event', event })]);
    expect([result.problems, result.applied, result.lastAt]).toEqual([[], 2, 2]);
  });

  it("keeps an ERROR event's error info, name, message and code, in the replayed journal", () => {
    const replayer = createReplayer({ journalSize: 4 });
    const released: ReleasedConnection[] = [];
    replayer.result().registry.onRelease((c) => released.push(c));
    const error = { name: 'TypeError', message: 'boom', code: 'EPIPE' };
    replayer.push(openOne);
    replayer.push(line({ seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'ERROR', reason: 'stream-error', error } }));
    expect(replayer.result().problems).toEqual([]);
    expect(released.map((c) => c.journal.map((j) => j.event))).toEqual([[{ type: 'ERROR', reason: 'stream-error', error }]]);
  });
});

describe('replay reports, at its line, a line that breaks a constraint of the connection log', () => {
  const broken: [string, object, 'not-a-record' | 'applied-leniently'][] = [
    ['a seq of 0', { seq: 0, id: 1, at: 2, kind: 'event', event: { type: 'FINISH' } }, 'not-a-record'],
    ['an id given as a string', { seq: 2, id: '1', at: 2, kind: 'event', event: { type: 'FINISH' } }, 'not-a-record'],
    ['an infinite time', { seq: 2, id: 1, at: 1e999, kind: 'event', event: { type: 'FINISH' } }, 'not-a-record'],
    ['an open record without a transport', { seq: 2, id: 2, at: 2, kind: 'open' }, 'not-a-record'],
    ['an error info without a message', { seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'ERROR', reason: 'stream-error', error: { name: 'Error' } } }, 'applied-leniently'],
    ['a close reason no transport gives', { seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'CLOSE', reason: 'bored' } }, 'applied-leniently'],
    ['a negative byte count', { seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'DATA', bytesSent: -1 } }, 'applied-leniently'],
    ['a detail that is not an object', { seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'DATA', bytesSent: 1, detail: 5 } }, 'applied-leniently'],
  ];

  it.each(broken)('%s', (_what, record, kind) => {
    const { problems } = replay([openOne, line(record)]);
    expect(problems.map((p) => [p.line, p.kind])).toEqual([[2, kind]]);
  });
});

describe("replay of a custom machine's log checks each line against that machine's log format", () => {
  it("applies a sound open and a sound event of the machine's own vocabulary without a problem", () => {
    const lines = [
      line({ seq: 1, id: 1, at: 1, kind: 'open', transport: 'none' }),
      line({ seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'PROGRESS', percent: 10, detail: { host: 'w1' } } }),
    ];
    const result = replay(lines, { machine: jobTable });
    expect([result.problems, result.applied]).toEqual([[], 2]);
  });

  it.each([
    ['an event without a type', { detail: { x: 1 } }, 'not-a-record'],
    ['an event whose detail is not an object', { type: 'START', detail: 5 }, 'applied-leniently'],
  ])('reports %s at its line', (_what, event, kind) => {
    const lines = [line({ seq: 1, id: 1, at: 1, kind: 'open', transport: 'none' }), line({ seq: 2, id: 1, at: 2, kind: 'event', event })];
    expect(replay(lines, { machine: jobTable }).problems.map((p) => [p.line, p.kind])).toEqual([[2, kind]]);
  });
});
