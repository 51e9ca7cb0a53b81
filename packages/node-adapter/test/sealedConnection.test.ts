import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { createRegistry } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { connectionOf, track, trackSocket, trackStream, type Connection } from '../src/index.js';
import { rawClient, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

/** What a user may call or read on a connection: the `Connection` interface, nothing else. */
const PUBLIC_METHODS = ['fail', 'onEnd', 'progress'];
const PUBLIC_GETTERS = ['id', 'outcome', 'registry', 'signal', 'state', 'transport'];

/** Every string-keyed property reachable on `value`, own or inherited, by kind. */
function reachable(value: object): { methods: string[]; getters: string[]; setters: string[] } {
  const methods = new Set<string>();
  const getters = new Set<string>();
  const setters = new Set<string>();
  for (let o: object | null = value; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(o))) {
      if (name === 'constructor') continue;
      if (typeof d.value === 'function') methods.add(name);
      if (d.get !== undefined) getters.add(name);
      if (d.set !== undefined) setters.add(name);
    }
  }
  return { methods: [...methods].sort(), getters: [...getters].sort(), setters: [...setters].sort() };
}

function offlineHttp1(registry = createRegistry()) {
  const req = new http.IncomingMessage(new net.Socket());
  return track(req, new http.ServerResponse(req), { registry });
}

function offlineStream(registry = createRegistry()) {
  // The shape trackStream needs; this test is about the connection object, not about HTTP/2.
  const stream = Object.assign(new EventEmitter(), { respond() {}, closed: false, session: undefined });
  return trackStream(stream as never, { registry });
}

function offlineSocket(registry = createRegistry()) {
  const socket = new net.Socket();
  return trackSocket(socket, { registry, transport: 'websocket' });
}

describe('a connection exposes only the public Connection API', () => {
  for (const [transport, make] of [
    ['an HTTP/1 request', offlineHttp1],
    ['an HTTP/2 stream', offlineStream],
    ['an upgraded socket', offlineSocket],
  ] as const) {
    it(`${transport}: its callable and readable names are exactly those of Connection, and nothing can be assigned`, () => {
      const connection = make();
      try {
        const { methods, getters, setters } = reachable(connection);
        expect(methods).toEqual(PUBLIC_METHODS);
        expect(getters).toEqual(PUBLIC_GETTERS);
        expect(setters).toEqual([]);
        const id = connection.id;
        expect(() => Object.assign(connection, { id: id + 1 })).toThrow(TypeError);
        expect(connection.id).toBe(id);
      } finally {
        connection.fail('shutdown', undefined, { terminate: false });
      }
    });
  }

  it('the transport hooks do not exist on the public type, and calling them by name fails', () => {
    const connection = offlineHttp1();
    try {
      // @ts-expect-error the transport hooks are not part of Connection
      expect(() => connection.responseFinished()).toThrow(TypeError);
      // @ts-expect-error
      expect(() => connection.apply({ type: 'FINISH' })).toThrow(TypeError);
      // @ts-expect-error
      expect(connection.terminate).toBeUndefined();
      expect(connection.state).toBe('open');
    } finally {
      connection.fail('shutdown', undefined, { terminate: false });
    }
  });

  it('a handler cannot fake a FINISH: the client leaving still ends the connection as closed', async () => {
    let connection: Connection | undefined;
    const hooksFound: string[] = [];
    const t = await startHttp1((req) => {
      connection = connectionOf(req);
      const loose = connection as unknown as Record<string, unknown>;
      // What was callable before the hooks were sealed: a handler finds none of it.
      for (const hook of ['responseFinished', 'responseClosed', 'socketGone', 'apply', 'terminate', 'detach']) {
        if (loose[hook] !== undefined) hooksFound.push(hook);
      }
      // never responds
    });
    const client = await rawClient(t.port);
    try {
      client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => connection !== undefined, 'the handler');
      client.destroy();
      await waitForReleases(t, 1);
      expect(hooksFound).toEqual([]);
      expect(t.releases.map((c) => c.outcome)).toEqual(['closed']);
      expect(connection!.outcome).toBe('closed');
    } finally {
      client.destroy();
      await t.close();
    }
  });
});
