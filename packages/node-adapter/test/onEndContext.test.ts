import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionOf } from '../src/index.js';
import { rawRequest } from '../src/testing/index.js';
import { get, rawClient, startHttp1, waitFor, type TestServer } from './helpers/server.js';

// connection.onEnd runs its listener in the async context it was registered in, like on-finished
// does: the end is often observed in another request's turn (a socket sweep, a pipelined neighbour),
// and logs or spans read from an AsyncLocalStorage must belong to the request that registered it.

let t: TestServer<import('node:http').Server> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const store = new AsyncLocalStorage<string>();

/** A server whose handler runs in a store holding its URL and registers an onEnd that records the store it sees. */
async function serverRecordingContexts(respond: (url: string, res: import('node:http').ServerResponse) => void) {
  const seen: { url: string; store: string | undefined }[] = [];
  t = await startHttp1((req, res) => {
    store.run(req.url!, () => {
      connectionOf(req)!.onEnd(() => seen.push({ url: req.url!, store: store.getStore() }));
      respond(req.url!, res);
    });
  });
  return seen;
}

describe('connection.onEnd keeps the async context it was registered in', () => {
  it('a normal finish, and keep-alive requests one after the other', async () => {
    const seen = await serverRecordingContexts((_url, res) => res.end('ok'));
    await get(t!.port, '/one');
    await get(t!.port, '/two');
    await waitFor(() => seen.length === 2, 'two ends');
    expect(seen.every((s) => s.store === s.url)).toBe(true);
  });

  it('a client that leaves before the response', async () => {
    const seen = await serverRecordingContexts(() => {
      /* never answers */
    });
    const c = await rawClient(t!.port);
    c.write(rawRequest('/left', false));
    await waitFor(() => t!.registry.size === 1, 'the request');
    c.destroy();
    await waitFor(() => seen.length === 1, 'the end');
    expect(seen).toEqual([{ url: '/left', store: '/left' }]);
  });

  it('pipelined responses whose socket dies: each listener sees its own request, not a neighbour or none', async () => {
    const seen = await serverRecordingContexts((url, res) => {
      if (url !== '/head') res.end('queued');
    });
    const c = await rawClient(t!.port);
    c.write(rawRequest('/head', false) + rawRequest('/second', false) + rawRequest('/third', true));
    await waitFor(() => t!.registry.stats().opened === 3, 'three requests');
    c.destroy();
    await waitFor(() => seen.length === 3, 'three ends');
    expect(seen.map((s) => s.store).sort()).toEqual(['/head', '/second', '/third']);
    expect(seen.every((s) => s.store === s.url)).toBe(true);
  });

  it('registered after the end: still called (on a microtask) in the registering context', async () => {
    const seen: (string | undefined)[] = [];
    t = await startHttp1((req, res) => {
      res.end('ok');
      res.on('close', () => store.run('late', () => connectionOf(req)!.onEnd(() => seen.push(store.getStore()))));
    });
    await get(t.port);
    await waitFor(() => seen.length === 1, 'late onEnd');
    expect(seen).toEqual(['late']);
  });
});
