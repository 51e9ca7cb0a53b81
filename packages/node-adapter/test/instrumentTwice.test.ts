// One server never has two registries: a second instrument() call either gets the live
// instrumentation back or fails naming what conflicts; detach() frees the server for a new one.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRegistry, type Registry } from '@lifeline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AlreadyInstrumentedError, instrument } from '../src/index.js';
import { get, tls, waitFor } from './helpers/server.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listening(server: http.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function listenerCounts(server: { eventNames(): (string | symbol)[]; listenerCount(e: string | symbol): number }) {
  return server.eventNames().map((e) => [String(e), server.listenerCount(e)]);
}

function releasedCount(registry: Registry<unknown>): number {
  const { finished, closed, errored } = registry.stats().released;
  return finished + closed + errored;
}

/** Makes one request and waits until `registry` has released it. */
async function oneRequest(port: number, registry: Registry<unknown>): Promise<void> {
  const before = releasedCount(registry);
  await get(port, '/');
  await waitFor(() => releasedCount(registry) > before, 'the release');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('instrumenting a server twice', () => {
  it('a second call with no options returns the live instrumentation, and each request is tracked once', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    const first = instrument(server);
    const counts = listenerCounts(server);
    const second = instrument(server);
    expect(second).toBe(first);
    expect(listenerCounts(server)).toEqual(counts);
    await oneRequest(await listening(server), first.registry);
    expect(first.registry.stats().opened).toBe(1);
  });

  it('a second call with the same registry, meta and upgrades returns the live instrumentation', () => {
    const server = http.createServer();
    const registry = createRegistry();
    const meta = (req: { url?: string | undefined }) => ({ url: req.url });
    const first = instrument(server, { registry, meta, upgrades: true });
    expect(instrument(server, { registry, meta, upgrades: true })).toBe(first);
    expect(instrument(server, { registry })).toBe(first);
  });

  const conflicts: [string, () => Record<string, unknown>, string[]][] = [
    ['another registry', () => ({ registry: createRegistry() }), ['registry']],
    ['another meta function', () => ({ meta: () => 'other' }), ['meta']],
    ['upgrades: false', () => ({ upgrades: false }), ['upgrades']],
    ['registry options (journalSize, onRecord)', () => ({ journalSize: 2, onRecord: () => {} }), ['journalSize', 'onRecord']],
  ];
  for (const [what, options, names] of conflicts) {
    it(`a second call with ${what} throws AlreadyInstrumentedError naming ${names.join(', ')}, and the first keeps tracking`, async () => {
      const server = http.createServer((_req, res) => res.end('ok'));
      const first = instrument(server, { meta: () => 'first' });
      const counts = listenerCounts(server);
      const error = thrown(() => instrument(server, options() as never));
      expect(error).toBeInstanceOf(AlreadyInstrumentedError);
      expect(error).toMatchObject({ code: 'LIFELINE_ALREADY_INSTRUMENTED', name: 'AlreadyInstrumentedError', options: names });
      expect((error as Error).message).toContain(names.map((name) => `"${name}"`).join(', '));
      expect((error as Error).message).toContain('detach()');
      expect(listenerCounts(server)).toEqual(counts);
      await oneRequest(await listening(server), first.registry);
      expect(first.registry.stats().opened).toBe(1);
    });
  }

  it('upgrades: false is remembered: asked again it returns the live instrumentation, upgrades: true conflicts', () => {
    const server = http.createServer();
    const first = instrument(server, { upgrades: false });
    expect(instrument(server, { upgrades: false })).toBe(first);
    expect(thrown(() => instrument(server, { upgrades: true }))).toMatchObject({ code: 'LIFELINE_ALREADY_INSTRUMENTED', options: ['upgrades'] });
  });

  it('bad options are reported as such even on an instrumented server', () => {
    const server = http.createServer();
    instrument(server);
    expect(thrown(() => instrument(server, { upgrades: 'no' } as never))).toMatchObject({ code: 'LIFELINE_INVALID_OPTIONS' });
  });

  it('an HTTP/2 server is held to the same rule', () => {
    const server = http2.createServer();
    const first = instrument(server);
    expect(instrument(server)).toBe(first);
    expect(thrown(() => instrument(server, { registry: createRegistry() }))).toBeInstanceOf(AlreadyInstrumentedError);
    first.detach();
    expect([server.listenerCount('request'), server.listenerCount('session')]).toEqual([0, 0]);
    expect(instrument(server, { registry: createRegistry() })).not.toBe(first);
  });

  it('after detach() the server can be instrumented again, with other options; only the new registry sees requests', async () => {
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok');
    const server = http.createServer(handler);
    const port = await listening(server);
    const first = instrument(server);
    await oneRequest(port, first.registry);
    first.detach();
    const second = instrument(server, { registry: createRegistry(), meta: () => 'second' });
    expect(second).not.toBe(first);
    const released: unknown[] = [];
    second.registry.onRelease((c) => released.push(c.meta));
    await oneRequest(port, second.registry);
    expect(first.registry.stats().opened).toBe(1);
    expect(second.registry.stats().opened).toBe(1);
    expect(released).toEqual(['second']);
    // The new instrumentation rides in a wrapper of the handler (the old one's was swapped back at detach()).
    expect(server.listeners('request')).toEqual([handler]);
    expect(server.rawListeners('request')).toHaveLength(1);
  });

  it('detach() twice does nothing more, and a stale detach() of an old instrumentation does not free the server from the current one', () => {
    const server = http.createServer();
    const untouched = listenerCounts(server);
    const first = instrument(server);
    first.detach();
    first.detach();
    expect(listenerCounts(server)).toEqual(untouched);
    const second = instrument(server);
    const instrumented = listenerCounts(server);
    first.detach();
    expect(instrument(server)).toBe(second);
    expect(listenerCounts(server)).toEqual(instrumented);
  });
});

/** Listener counts by event, compared without regard to the order events were first listened to. */
function countsByEvent(server: { eventNames(): (string | symbol)[]; listenerCount(e: string | symbol): number }) {
  return Object.fromEntries(listenerCounts(server));
}

describe('detach()', () => {
  const answer = (_req: unknown, res: { end(): void }) => res.end();
  // The last column: whether the adapter follows the app's 'connect' listeners (HTTP/1.1 CONNECT sockets);
  // an HTTP/2 server without allowHTTP1 never gets one, so the adapter adds no 'connect' listener there.
  const kinds: [string, () => http.Server | http2.Http2Server | http2.Http2SecureServer, boolean][] = [
    ['an http.Server', () => http.createServer(answer), true],
    ['an https.Server', () => https.createServer(tls, answer), true],
    ['an HTTP/2 server', () => http2.createServer(answer), false],
    ['a secure HTTP/2 server that allows HTTP/1.1', () => http2.createSecureServer({ ...tls, allowHTTP1: true }, answer), true],
  ];
  for (const [kind, make, followsConnect] of kinds) {
    it(`on ${kind} removes exactly the listeners instrument() added; the app's stay, and ones it adds later bring no tracking back`, () => {
      const server = make() as http.Server;
      const appUpgrade = () => {};
      server.on('upgrade', appUpgrade);
      const before = countsByEvent(server);
      const instrumentation = instrument(server);
      server.on('connect', () => {}); // followed by the adapter while instrumented
      expect(server.listenerCount('connect')).toBe(followsConnect ? 2 : 1);
      instrumentation.detach();
      expect(countsByEvent(server)).toEqual({ ...before, connect: 1 });
      server.on('upgrade', () => {});
      server.on('checkContinue', () => {});
      server.removeListener('upgrade', appUpgrade);
      expect(countsByEvent(server)).toEqual({ ...before, connect: 1, checkContinue: 1 });
      expect(instrument(server)).not.toBe(instrumentation);
    });
  }
});
