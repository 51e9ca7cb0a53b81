import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionOutcome } from '@lifeline/core';
import { connectionOf } from '../src/index.js';
import { rawRequest } from '../src/testing/index.js';
import { get, rawClient, startHttp1, waitFor, type TestServer } from './helpers/server.js';
import { nodePaths } from './helpers/nodePaths.js';

let t: TestServer<import('node:http').Server> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('connection.onEnd', () => {
  it('fires once with the outcome; a removed listener does not fire', async () => {
    const seen: (ConnectionOutcome | undefined)[] = [];
    let removedCalled = false;
    t = await startHttp1((req, res) => {
      const connection = connectionOf(req)!;
      connection.onEnd((outcome) => seen.push(outcome));
      const off = connection.onEnd(() => (removedCalled = true));
      off();
      res.end('ok');
    });
    await get(t.port);
    await waitFor(() => seen.length === 1, 'onEnd');
    expect(seen).toEqual(['finished']);
    expect(removedCalled).toBe(false);
  });

  it('fires once for each pipelined response whose socket died (Node 20/22 give the queued ones neither finish nor close)', async () => {
    const ended: string[] = [];
    const resEvents: string[] = [];
    t = await startHttp1((req, res) => {
      connectionOf(req)!.onEnd((outcome, event) => ended.push(`${req.url}:${outcome}:${event.type}`));
      res.on('finish', () => resEvents.push(`${req.url}:finish`));
      res.on('close', () => resEvents.push(`${req.url}:close`));
      if (req.url !== '/first') res.end('queued');
    });
    const c = await rawClient(t.port);
    c.write(rawRequest('/first', false) + rawRequest('/second', false) + rawRequest('/third', true));
    await waitFor(() => t!.registry.stats().opened === 3, 'three requests');
    c.destroy();
    await waitFor(() => ended.length === 3, 'three ends');
    expect(ended.sort()).toEqual(['/first:closed:CLOSE', '/second:closed:CLOSE', '/third:closed:CLOSE']);
    expect(resEvents.sort()).toEqual(nodePaths.queuedResponseGetsClose ? ['/first:close', '/second:close', '/third:close'] : ['/first:close']);
  });

  it('called after the end, it still fires (on a microtask), like on-finished', async () => {
    const order: string[] = [];
    t = await startHttp1((req, res) => {
      res.end('ok');
      res.on('close', () => {
        connectionOf(req)!.onEnd((outcome) => order.push(`late:${outcome}`));
        order.push('registered');
      });
    });
    await get(t.port);
    await waitFor(() => order.length === 2, 'late onEnd');
    expect(order).toEqual(['registered', 'late:finished']);
  });

  it('a listener registered after the end and removed before its microtask never fires', async () => {
    const fired: string[] = [];
    let registered = false;
    t = await startHttp1((req, res) => {
      res.end('ok');
      res.on('close', () => {
        const connection = connectionOf(req)!;
        connection.onEnd(() => fired.push('cancelled'))();
        connection.onEnd((outcome) => fired.push(`kept:${outcome}`));
        registered = true;
      });
    });
    await get(t.port);
    await waitFor(() => registered && fired.length > 0, 'the kept late listener');
    expect(fired).toEqual(['kept:finished']);
  });

  it('removing the first of several listeners leaves the others, in order', async () => {
    const fired: string[] = [];
    t = await startHttp1((req, res) => {
      const connection = connectionOf(req)!;
      const offFirst = connection.onEnd(() => fired.push('first'));
      connection.onEnd(() => fired.push('second'));
      connection.onEnd(() => fired.push('third'));
      offFirst();
      res.end('ok');
    });
    await get(t.port);
    await waitFor(() => fired.length >= 2, 'the remaining listeners');
    expect(fired).toEqual(['second', 'third']);
  });

  it('a throwing listener does not stop the others or the release', async () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      t = await startHttp1((req, res) => {
        const c = connectionOf(req)!;
        c.onEnd(() => {
          throw new Error('listener broke');
        });
        c.onEnd((o) => seen.push(String(o)));
        res.end('ok');
      });
      await get(t.port);
      await waitFor(() => seen.length === 1, 'second listener');
      expect(t.registry.size).toBe(0);
      expect(errors).toHaveLength(1);
      // The report carries the thrown error and says which connection's listener threw.
      const [what, thrown] = errors[0] as [string, Error];
      expect(thrown.message).toBe('listener broke');
      expect(what).toContain(`connection ${t.releases[0]!.id}`);
    } finally {
      console.error = original;
    }
  });
});
