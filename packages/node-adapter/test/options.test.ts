import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createRegistry, InvalidOptionsError } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { drain, instrument, pipeResponse, sendFile, startWatchdog, track } from '../src/index.js';
import { get } from './helpers/server.js';

/** Awaits `promise`, expecting it to reject; returns the reason. */
async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Calls `fn`, expecting it to throw synchronously; returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectInvalid(error: unknown, where: string, option: string): void {
  expect(error).toBeInstanceOf(InvalidOptionsError);
  const e = error as InvalidOptionsError;
  expect(e.code).toBe('LIFELINE_INVALID_OPTIONS');
  expect(e.message).toContain(where);
  expect(e.message).toContain(`"${option}"`);
  expect(e.options).toContain(option);
}

describe('option validation at the adapter boundary', () => {
  const instrumentCases: [string, Record<string, unknown>, string][] = [
    ['upgrades: "yes"', { upgrades: 'yes' }, 'upgrades'],
    ['an unknown option', { upgrade: true }, 'upgrade'],
    ['registry together with journalSize', { registry: createRegistry(), journalSize: 4 }, 'journalSize'],
    ['registry together with onRecord', { registry: createRegistry(), onRecord: () => {} }, 'onRecord'],
    ['a registry that is not one', { registry: { size: 0 } }, 'registry'],
    ['meta that is not a function', { meta: 'url' }, 'meta'],
  ];
  for (const [what, options, option] of instrumentCases) {
    it(`instrument() rejects ${what}, naming "${option}", and leaves the server untouched`, () => {
      const server = http.createServer();
      const listenersBefore = server.eventNames().map((e) => [e, server.listenerCount(e)]);
      expectInvalid(
        thrown(() => instrument(server, options as never)),
        'instrument',
        option,
      );
      expect(server.eventNames().map((e) => [e, server.listenerCount(e)])).toEqual(listenersBefore);
    });
  }

  it('instrument() checks registry options by createRegistry\'s rules, naming the option, before touching the server', () => {
    const server = http2.createServer();
    const error = thrown(() => instrument(server, { journalSize: -1 }));
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('"journalSize"');
    expect(server.listenerCount('stream')).toBe(0);
  });

  it('instrument() names every bad option in one error, registry options among them', () => {
    const error = thrown(() => instrument(http.createServer(), { upgrades: 'yes', journalSize: -1, clock: 'now' } as never));
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).options).toEqual(['upgrades', 'clock', 'journalSize']);
  });

  it('a registry option beside an existing registry is refused with the way to give it: to createRegistry()', () => {
    const error = thrown(() => instrument(http.createServer(), { registry: createRegistry(), clock: () => 0 }));
    expectInvalid(error, 'instrument', 'clock');
    expect((error as Error).message).toContain('createRegistry()');
    expect((error as Error).message).toContain('"registry"');
  });

  it('instrument() with valid options tracks requests', async () => {
    const records: unknown[] = [];
    const server = http.createServer((_req, res) => res.end('ok'));
    const { registry } = instrument(server, { journalSize: 2, upgrades: false, onRecord: (r) => records.push(r), meta: (req) => ({ url: req.url }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await get((server.address() as AddressInfo).port, '/x');
      expect(registry.stats().opened).toBe(1);
      expect(records[0]).toMatchObject({ kind: 'open', transport: 'http1', meta: { url: '/x' } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('startWatchdog() names the bad option', () => {
    const registry = createRegistry();
    expectInvalid(
      thrown(() => startWatchdog(registry, { idleTimeout: 100, maxAge: 0 })),
      'startWatchdog',
      'maxAge',
    );
    expectInvalid(
      thrown(() => startWatchdog(registry, { idleTimeout: 100, every: 10 } as never)),
      'startWatchdog',
      'every',
    );
  });

  it('drain() rejects naming the bad option, and does not close the server first', async () => {
    const registry = createRegistry();
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expectInvalid(await rejected(drain(registry, { server, deadline: -1 })), 'drain', 'deadline');
      expectInvalid(await rejected(drain(registry, { server, deadline: '5s' } as never)), 'drain', 'deadline');
      expectInvalid(await rejected(drain(registry, { server: {} as never })), 'drain', 'server');
      expectInvalid(await rejected(drain(registry, { server, timeout: 5 } as never)), 'drain', 'timeout');
      expect(server.listening).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('timer values and the first argument checks', () => {
  it('a timer value Node would turn into 1 ms is refused, naming the option', async () => {
    const registry = createRegistry();
    await expect(drain(registry, { deadline: 3e9 })).rejects.toThrow(/option "deadline"/);
    expect(() => startWatchdog(registry, { maxAge: 365 * 24 * 3600 * 1000 })).toThrow(/option "maxAge"/);
    expect(() => startWatchdog(registry, { idleTimeout: 100, interval: 1e-6 })).toThrow(/option "interval"/);
  });

  it('track() without a registry names the option instead of failing inside', () => {
    expect(() => track({} as http.IncomingMessage, {} as http.ServerResponse, {} as never)).toThrow(InvalidOptionsError);
    expect(() => track({} as http.IncomingMessage, {} as http.ServerResponse, {} as never)).toThrow(/track: option "registry"/);
  });

  it('instrument() reports a bad registry option as its own', () => {
    expect(() => instrument(http.createServer(), { journalSize: -1 })).toThrow(/^instrument: invalid options: option "journalSize"/);
  });

  it('sendFile() and pipeResponse() reject naming bad options, leaving the response untouched', async () => {
    const res = new http.ServerResponse(new http.IncomingMessage(null as never));
    await expect(sendFile(res, '/x', { contentType: 5 } as never)).rejects.toThrow(InvalidOptionsError);
    await expect(sendFile(res, '/x', { contentType: 5 } as never)).rejects.toThrow(/sendFile: .*option "contentType"/);
    await expect(pipeResponse(res, Readable.from([]), { expectedBytes: -1 })).rejects.toThrow(/option "expectedBytes"/);
    expect([res.headersSent, res.writableEnded, res.destroyed]).toEqual([false, false, false]);
  });
});
