import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistry, type ReleasedConnection } from '@lifeline/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectionOf, wrapHandler, type Connection } from '../src/index.js';
import { request } from './helpers/client.js';
import { sleep, startHttp1, waitForReleases } from './helpers/server.js';

const quiet = () => {};

describe('wrapHandler over a real 127.0.0.1 socket', () => {
  const unhandled = vi.fn();
  const uncaught = vi.fn();
  beforeEach(() => {
    unhandled.mockClear();
    uncaught.mockClear();
    process.on('unhandledRejection', unhandled);
    process.on('uncaughtException', uncaught);
  });
  afterEach(() => {
    process.removeListener('unhandledRejection', unhandled);
    process.removeListener('uncaughtException', uncaught);
  });

  it('a synchronous throw → 500 and errored (handler-error) with the error', async () => {
    const t = await startHttp1(
      wrapHandler(
        () => {
          throw new Error('sync boom');
        },
        { onHandlerError: quiet },
      ),
    );
    try {
      const r = await request(t.port);
      expect(r.status).toBe(500);
      expect(r.body.toString()).toBe('Internal Server Error\n');
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'handler-error', error: { message: 'sync boom' } } });
      expect(t.registry.size).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('an async rejection → 500 and errored (handler-error) with the error', async () => {
    const t = await startHttp1(
      wrapHandler(
        async () => {
          await sleep(5);
          throw new Error('async boom');
        },
        { onHandlerError: quiet },
      ),
    );
    try {
      const r = await request(t.port);
      expect(r.status).toBe(500);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'handler-error', error: { message: 'async boom' } } });
      await sleep(20);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      await t.close();
    }
  });

  it('a rejection after the headers and part of the body went out → the response is cut, errored', async () => {
    const t = await startHttp1(
      wrapHandler(
        async (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('partial');
          await sleep(20); // the head and 'partial' reach the client
          throw new Error('late boom');
        },
        { onHandlerError: quiet },
      ),
    );
    try {
      const r = await request(t.port);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('partial');
      expect(r.complete).toBe(false);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'handler-error', error: { message: 'late boom' } } });
      expect(t.releases[0]!.journal.map((j) => j.event.type)).not.toContain('FINISH');
    } finally {
      await t.close();
    }
  });

  it('a synchronous throw after writeHead → no complete response reaches the client, errored', async () => {
    const t = await startHttp1(
      wrapHandler(
        (_req, res) => {
          res.writeHead(200);
          res.write('partial');
          throw new Error('sync late boom');
        },
        { onHandlerError: quiet },
      ),
    );
    try {
      const r = await request(t.port);
      expect(r.complete).toBe(false);
      expect(r.status).not.toBe(500);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'handler-error' } });
    } finally {
      await t.close();
    }
  });

  it('onHandlerError receives the error and the request; the handler receives the connection', async () => {
    const reported: [unknown, http.IncomingMessage][] = [];
    const boom = new Error('reported boom');
    let requestSeen: http.IncomingMessage | undefined;
    let connectionSeen: Connection | undefined;
    const t = await startHttp1(
      wrapHandler(
        (req, _res, connection) => {
          requestSeen = req;
          connectionSeen = connection;
          return Promise.reject(boom);
        },
        { onHandlerError: (error, req) => reported.push([error, req as http.IncomingMessage]) },
      ),
    );
    try {
      await request(t.port);
      await waitForReleases(t, 1);
      expect(reported).toHaveLength(1);
      expect(reported[0]![0]).toBe(boom);
      expect(reported[0]![1]).toBe(requestSeen);
      expect(connectionSeen).toBeDefined();
      expect(connectionSeen).toBe(connectionOf(requestSeen!));
      expect(connectionSeen!.id).toBe(t.releases[0]!.id);
    } finally {
      await t.close();
    }
  });

  it('a throwing onHandlerError causes no unhandled rejection or exception; the 500 still goes out', async () => {
    const throwingReporter = () => {
      throw new Error('reporter broke');
    };
    const t = await startHttp1(
      wrapHandler(
        async (req) => {
          if (req.url === '/sync') throw new Error('x'); // still inside the async function: a rejection
          await sleep(1);
          throw new Error('y');
        },
        { onHandlerError: throwingReporter },
      ),
    );
    const syncThrowing = await startHttp1(
      wrapHandler(
        () => {
          throw new Error('z');
        },
        { onHandlerError: throwingReporter },
      ),
    );
    try {
      const [a, b, c] = await Promise.all([request(t.port, { path: '/sync' }), request(t.port, { path: '/async' }), request(syncThrowing.port)]);
      expect([a.status, b.status, c.status]).toEqual([500, 500, 500]);
      await waitForReleases(t, 2);
      await waitForReleases(syncThrowing, 1);
      await sleep(50);
      expect(unhandled).not.toHaveBeenCalled();
      expect(uncaught).not.toHaveBeenCalled();
      expect([...t.releases, ...syncThrowing.releases].map((r) => r.outcome)).toEqual(['errored', 'errored', 'errored']);
    } finally {
      await t.close();
      await syncThrowing.close();
    }
  });

  it('with { registry } on a server that is not instrumented, it tracks the request itself', async () => {
    const registry = createRegistry();
    const releases: ReleasedConnection[] = [];
    registry.onRelease((c) => releases.push(c));
    const server = http.createServer(
      wrapHandler(
        () => {
          throw new Error('untracked boom');
        },
        { registry, onHandlerError: quiet },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const r = await request((server.address() as AddressInfo).port);
      expect(r.status).toBe(500);
      await waitForReleases({ releases }, 1);
      expect(releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'handler-error' } });
      expect(registry.size).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
