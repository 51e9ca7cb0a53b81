import { describe, expect, it } from 'vitest';
import { connectionEventSchema, eventDetailSchema } from '../src/eventSchemas.js';
import type { ConnectionEvent } from '../src/events.js';
import { toNdjsonLine } from '../src/log.js';
import { logRecordSchema } from '../src/logSchemas.js';
import { createRegistry, type ReleasedConnection } from '../src/registry.js';
import { replay } from '../src/replay.js';

const withDetail: ConnectionEvent[] = [
  { type: 'HEADERS', status: 101, detail: { protocol: 'websocket' } },
  { type: 'DATA', bytesSent: 10, detail: { frames: 2, opcodes: [1, 2] } },
  { type: 'REQUEST_END', detail: {} },
  { type: 'CLOSE', reason: 'aborted', detail: { closeCode: 1006, clean: false, note: null, nested: { a: [1, 'b'] } } },
];

describe('events carry transport detail', () => {
  it('every connection event type accepts a JSON detail in its schema', () => {
    for (const event of [...withDetail, { type: 'FINISH', detail: { x: 1 } }, { type: 'ERROR', reason: 'timeout', detail: { after: 30_000 } }]) {
      expect(connectionEventSchema.safeParse(event).success, event.type).toBe(true);
    }
  });

  it('a detail that is not a flat object of JSON values is refused by the schema', () => {
    expect(eventDetailSchema.safeParse({ at: new Date(0) }).success).toBe(false);
    expect(eventDetailSchema.safeParse([1, 2]).success).toBe(false);
    expect(eventDetailSchema.safeParse({ f: () => 1 }).success).toBe(false);
    expect(connectionEventSchema.safeParse({ type: 'CLOSE', reason: 'aborted', detail: 1006 }).success).toBe(false);
  });

  it('is kept in the journal and the release listener’s event', () => {
    const registry = createRegistry({ journalSize: 8 });
    const released: ReleasedConnection[] = [];
    registry.onRelease((c) => released.push(c));
    const id = registry.open({ transport: 'websocket' });
    for (const event of withDetail) registry.dispatch(id, event);
    expect(released[0]!.event).toEqual(withDetail[3]);
    expect(released[0]!.journal.map((j) => j.event)).toEqual(withDetail);
  });

  it('round-trips through the NDJSON log and replay, every line valid', () => {
    let now = 0;
    const lines: string[] = [];
    const registry = createRegistry({ clock: () => ++now, onRecord: (r) => lines.push(toNdjsonLine(r)) });
    const a = registry.open({ transport: 'websocket' });
    const b = registry.open({ transport: 'websocket' });
    for (const event of withDetail.slice(0, 3)) registry.dispatch(a, event);
    registry.dispatch(b, withDetail[3]!);
    for (const line of lines) expect(logRecordSchema.safeParse(JSON.parse(line)).success).toBe(true);
    const parsedEvents = lines.map((l) => JSON.parse(l) as { kind: string; event?: unknown }).filter((r) => r.kind === 'event').map((r) => r.event);
    expect(parsedEvents).toEqual([...withDetail.slice(0, 3), withDetail[3]]);

    const { registry: restored, problems } = replay(lines.join(''), { journalSize: 8 });
    expect(problems).toEqual([]);
    expect(restored.stats()).toEqual(registry.stats());
    const released: ReleasedConnection[] = [];
    restored.onRelease((c) => released.push(c));
    restored.dispatch(a, { type: 'FINISH', detail: { after: 'replay' } });
    expect(released[0]!.event.detail).toEqual({ after: 'replay' });
  });
});
