import { describe, expect, it } from 'vitest';
import { get, rawClient, sleep, startHttp1, waitForReleases } from './helpers/server.js';

describe('HTTP/1 facts over a real 127.0.0.1 socket', () => {
  it('1. normal response: finish then close → finished, released once', async () => {
    const t = await startHttp1((_req, res) => res.end('hello'));
    try {
      const r = await get(t.port);
      expect(r.body).toBe('hello');
      await waitForReleases(t, 1);
      await sleep(20);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(t.registry.size).toBe(0);
      expect(t.registry.stats().lateEvents).toBe(0);
    } finally {
      await t.close();
    }
  });
});
