import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResponseCounter } from '../src/rawLoad.js';

const response = (status: number, body: string) =>
  `HTTP/1.1 ${status} X\r\nContent-Type: text/plain\r\nDate: Thu, 26 Nov 2026 23:00:00 GMT\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** Feeds `bytes` to a fresh counter in chunks cut at `cuts`; returns what it reported. */
function count(bytes: Buffer, cuts: number[]): { ok: number; notOk: number; errors: string[] } {
  const seen = { ok: 0, notOk: 0, errors: [] as string[] };
  const counter = new ResponseCounter(
    (ok) => (ok ? seen.ok++ : seen.notOk++),
    (why) => seen.errors.push(why),
  );
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    counter.push(bytes.subarray(from, cut));
    from = cut;
  }
  counter.push(bytes.subarray(from));
  return seen;
}

describe('ResponseCounter (the raw load driver’s HTTP/1.1 response counter)', () => {
  it('counts every response exactly once however the byte stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (bodies, rawCuts) => {
        const bytes = Buffer.from(bodies.map((b) => response(200, b)).join(''), 'latin1');
        const seen = count(bytes, rawCuts.map((c) => c % (bytes.length + 1)));
        expect(seen).toEqual({ ok: bodies.length, notOk: 0, errors: [] });
      }),
      { numRuns: 100 },
    );
  });

  it('reports a response other than 200 as not ok, after its body, and names the status', () => {
    const seen = count(Buffer.from(response(200, 'a') + response(503, 'busy') + response(200, '')), [40, 90]);
    expect(seen).toEqual({ ok: 2, notOk: 1, errors: ['status 503'] });
  });

  it('refuses a response without Content-Length rather than guessing where it ends', () => {
    const seen = count(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'), []);
    expect(seen.ok + seen.notOk).toBe(0);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toMatch(/without content-length/);
  });
});
