import http, { type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createRegistry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { drain, instrument, startWatchdog, track } from '../src/index.js';
import { request, type LooseResponse } from './helpers/client.js';
import { sleep, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

const PATHS = ['/0', '/1', '/2', '/3', '/4'];

/**
 * Five held requests, tracked one after another (so in a known order), of
 * which the oldest, the middle and the newest are answered: the adapter's
 * bookkeeping of live connections must then hold exactly the other two,
 * wherever the ended ones stood in it.
 */
async function twoLeftInFlight() {
  const held = new Map<string, ServerResponse>();
  const t = await startHttp1((req, res) => void held.set(req.url!, res));
  const answers: Promise<LooseResponse>[] = [];
  for (const path of PATHS) {
    answers.push(request(t.port, { path }));
    await waitFor(() => held.has(path), `request ${path} to be held`);
  }
  for (const path of ['/0', '/2', '/4']) held.get(path)!.end('done');
  await waitForReleases(t, 3);
  return { t, answers };
}

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

describe('an ended connection is not kept alive by its registry', () => {
  it('three tracked connections ended newest, oldest, middle are all collectable while the registry lives on', async () => {
    const registry = createRegistry();
    const refs: WeakRef<object>[] = [];
    // Offline pairs: nothing but this block holds the request, response and socket.
    (() => {
      const connections = [0, 1, 2].map(() => {
        const req = new http.IncomingMessage(new net.Socket());
        return track(req, new http.ServerResponse(req), { registry });
      });
      for (const i of [2, 0, 1]) connections[i]!.fail('shutdown', undefined, { terminate: false });
      for (const c of connections) refs.push(new WeakRef(c));
    })();
    await turn();
    collectGarbage();
    await turn();
    expect(registry.size).toBe(0);
    expect(refs.map((r) => r.deref() === undefined)).toEqual([true, true, true]);
  });
});

describe('the connections the adapter acts on at a sweep or a shutdown are exactly those still in flight', () => {
  it('on a registry that takes no new properties (Object.preventExtensions), drain still finds and answers the in-flight requests', async () => {
    const registry = Object.preventExtensions(createRegistry());
    const held = new Set<string>();
    const server = http.createServer((req) => void held.add(req.url!));
    instrument(server, { registry });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const answers = [request(port, { path: '/a' }), request(port, { path: '/b' })];
      await waitFor(() => held.size === 2, 'both requests held');
      const result = await drain(registry, { deadline: 20 });
      const responses = await Promise.all(answers);
      expect(result).toEqual({ drained: 0, forced: 2 });
      expect(responses.map((r) => r.status)).toEqual([503, 503]);
      expect(registry.size).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a watchdog sweep ends the two left, whichever tracked neighbours ended before them', async () => {
    const { t, answers } = await twoLeftInFlight();
    const watchdog = startWatchdog(t.registry, { maxAge: 1, interval: 60_000 });
    try {
      await sleep(5);
      const ended = watchdog.sweep();
      const responses = await Promise.all(answers);
      await waitForReleases(t, 5);
      expect(ended).toBe(2);
      expect(responses.map((r) => r.status)).toEqual([200, 503, 200, 503, 200]);
      expect(t.releases.map((c) => c.outcome).sort()).toEqual(['errored', 'errored', 'finished', 'finished', 'finished']);
      expect(t.registry.size).toBe(0);
      expect(watchdog.sweep()).toBe(0);
    } finally {
      watchdog.stop();
      await t.close();
    }
  });

  it('drain at its deadline answers the two left with 503 and forces nothing else', async () => {
    const { t, answers } = await twoLeftInFlight();
    try {
      const result = await drain(t.registry, { deadline: 20 });
      const responses = await Promise.all(answers);
      expect(result).toEqual({ drained: 0, forced: 2 });
      expect(responses.map((r) => r.status)).toEqual([200, 503, 200, 503, 200]);
      expect(t.registry.size).toBe(0);
    } finally {
      await t.close();
    }
  });
});
