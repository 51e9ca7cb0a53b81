// What server code reads from and does with its connection handle: state and outcome across the end,
// and fail() when the caller keeps the answer or the connection has already ended.
import type { ConnectionState } from '@lifeline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionErroredError, connectionOf, type Connection } from '../src/index.js';
import { get, startHttp1, waitFor, waitForReleases, type TestServer } from './helpers/server.js';

let t: TestServer<import('node:http').Server> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('connection.state and connection.outcome', () => {
  it('state is the live state while in flight and the outcome after the end, which a late progress() does not change; outcome is undefined until then', async () => {
    const seen: [string, ConnectionState | undefined, string | undefined][] = [];
    let connection: Connection | undefined;
    t = await startHttp1((req, res) => {
      connection = connectionOf(req)!;
      seen.push(['in flight', connection.state, connection.outcome]);
      connection.onEnd(() => seen.push(['in onEnd', connection!.state, connection!.outcome]));
      res.end('ok');
    });
    await get(t.port);
    await waitForReleases(t, 1);
    seen.push(['later', connection!.state, connection!.outcome]);
    // A fact reported after the end (a late progress() from a write callback) changes nothing.
    connection!.progress(2);
    seen.push(['after a late progress()', connection!.state, connection!.outcome]);
    expect(seen).toEqual([
      ['in flight', 'open', undefined],
      ['in onEnd', 'finished', 'finished'],
      ['later', 'finished', 'finished'],
      ['after a late progress()', 'finished', 'finished'],
    ]);
  });

  it('a connection released on the registry directly has neither state nor outcome, and fail() then leaves the answer to the handler', async () => {
    let read: { state: ConnectionState | undefined; outcome: string | undefined } | undefined;
    t = await startHttp1((req, res) => {
      const connection = connectionOf(req)!;
      // Someone ends the entry on the registry behind the adapter's back; the adapter learns of it at its next fact.
      connection.registry.dispatch(connection.id, { type: 'CLOSE', reason: 'aborted' });
      connection.progress(0);
      read = { state: connection.state, outcome: connection.outcome };
      connection.fail('timeout');
      res.end('answered by the handler');
    });
    const response = await get(t.port);
    expect(read).toEqual({ state: undefined, outcome: undefined });
    expect(response).toMatchObject({ status: 200, body: 'answered by the handler' });
  });
});

describe('connection.fail', () => {
  it('{ terminate: false } records the failure (outcome errored, signal aborted) and leaves the answer to the handler', async () => {
    let connection: Connection | undefined;
    t = await startHttp1((req, res) => {
      connection = connectionOf(req)!;
      const signal = connection.signal;
      connection.fail('handler-error', new Error('recorded only'), { terminate: false });
      res.end(`still answered, signal aborted: ${signal.aborted}`);
    });
    const response = await get(t.port);
    await waitFor(() => t!.releases.length === 1, 'the release');
    expect(response).toMatchObject({ status: 200, body: 'still answered, signal aborted: true' });
    expect(connection!.outcome).toBe('errored');
    expect(t.releases[0]!.event).toMatchObject({ type: 'ERROR', reason: 'handler-error', error: { message: 'recorded only' } });
    expect(connection!.signal.reason).toBeInstanceOf(ConnectionErroredError);
  });
});
