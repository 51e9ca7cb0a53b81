import { afterEach, describe, expect, it } from 'vitest';
import { connectionOf } from '../src/index.js';
import { get, startHttp1, waitForReleases, type TestServer } from './helpers/server.js';

let t: TestServer<import('node:http').Server> | undefined;
const RealAbortController = globalThis.AbortController;
afterEach(async () => {
  globalThis.AbortController = RealAbortController;
  await t?.close();
  t = undefined;
});

/** Counts AbortControllers made while the test runs (Node's own http code makes none for these requests). */
function countControllers(): { made: number } {
  const counter = { made: 0 };
  globalThis.AbortController = class extends RealAbortController {
    constructor() {
      super();
      counter.made++;
    }
  };
  return counter;
}

describe('connection.signal is created lazily', () => {
  it('requests whose handler never reads the signal make no AbortController', async () => {
    const counter = countControllers();
    t = await startHttp1((_req, res) => res.end('ok'));
    for (let i = 0; i < 20; i++) await get(t.port);
    await waitForReleases(t, 20);
    expect(counter.made).toBe(0);
  });

  it('reading it makes exactly one per connection, however often it is read', async () => {
    const counter = countControllers();
    t = await startHttp1((req, res) => {
      const connection = connectionOf(req)!;
      expect(connection.signal).toBe(connection.signal);
      res.end('ok');
    });
    for (let i = 0; i < 5; i++) await get(t.port);
    await waitForReleases(t, 5);
    expect(counter.made).toBe(5);
  });
});
