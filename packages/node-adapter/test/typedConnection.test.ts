// A Connection<M> is only handed out where M is known: the connection is in the registry whose M it is.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { connectionOf, instrument, wrapHandler, type Connection } from '../src/index.js';
import { request } from './helpers/client.js';
import { startHttp1, waitForReleases } from './helpers/server.js';

describe('connections typed by their registry', () => {
  it("instrumentation.connectionOf(req) is the request's connection for its own server, undefined for another registry's", async () => {
    const other = instrument(http.createServer(), { registry: createRegistry<{ route: string }>() });
    const seen: { own?: Connection | undefined; other?: Connection | undefined; free?: Connection | undefined } = {};
    const t = await startHttp1((req, res) => {
      seen.own = t.instrumentation.connectionOf(req);
      seen.other = other.connectionOf(req);
      seen.free = connectionOf(req);
      res.end();
    });
    try {
      await request(t.port);
      await waitForReleases(t, 1);
      expect(seen.free).toBeDefined();
      expect(seen.own).toBe(seen.free);
      expect(seen.own!.registry).toBe(t.registry);
      expect(seen.other).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('a handler prepended after instrument() runs first: instrumentation.connectionOf(req) is undefined there, and the request is tracked all the same', async () => {
    const seen: unknown[] = [];
    const t = await startHttp1((_req, res) => res.end());
    t.server.prependListener('request', (req: http.IncomingMessage) => {
      try {
        seen.push(t.instrumentation.connectionOf(req));
      } catch (error) {
        seen.push(error);
      }
    });
    try {
      await request(t.port);
      await waitForReleases(t, 1);
      expect(seen).toEqual([undefined]);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
    } finally {
      await t.close();
    }
  });

  it('wrapHandler with a registry hands the handler that registry\'s connection, tracking the request there if needed', async () => {
    const registry = createRegistry<{ route: string }>();
    const seen: Connection<{ route: string }>[] = [];
    const server = http.createServer(
      wrapHandler(
        (_req, res, connection) => {
          if (connection !== undefined) seen.push(connection);
          res.end();
        },
        { registry },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await request((server.address() as AddressInfo).port);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.registry).toBe(registry);
      expect(seen[0]!.outcome).toBe('finished');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('wrapHandler with a registry gives undefined for a request another registry tracks, and still records its failure there', async () => {
    const elsewhere = createRegistry<{ route: string }>();
    const given: unknown[] = [];
    const t = await startHttp1(
      wrapHandler(
        (_req, _res, connection) => {
          given.push(connection);
          throw new Error('boom');
        },
        { registry: elsewhere, onHandlerError: () => {} },
      ),
    );
    try {
      const response = await request(t.port);
      await waitForReleases(t, 1);
      expect(given).toEqual([undefined]);
      expect(response.status).toBe(500);
      expect(t.releases.map((c) => c.outcome)).toEqual(['errored']);
      expect(elsewhere.stats().opened).toBe(0);
    } finally {
      await t.close();
    }
  });
});
