// Requests that reach the application by another route than the server's 'request' event
// (checkContinue, HTTP/1.1 on an HTTP/2 server with allowHTTP1) are tracked all the same.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRegistry, type ReleasedConnection } from '@lifeline/core';
import { instrument } from '../src/index.js';
import { serversClosedAfterEach, waitFor, waitForReleases } from './helpers/server.js';

const { h1, closeAfter } = serversClosedAfterEach();

describe('requests that do not go through "request"', () => {
  it('a request routed to the app\'s checkContinue listener is tracked; without one, Node still answers 100 itself', async () => {
    const t = await h1((_req, res) => res.end('plain'));
    let continued = 0;
    const trackedOnArrival: boolean[] = [];
    const withContinue = (req: http.IncomingMessage, res: http.ServerResponse) => {
      continued++;
      trackedOnArrival.push(t.instrumentation.connectionOf(req) !== undefined);
      res.writeContinue();
      req.resume();
      req.on('end', () => res.end('continued'));
    };
    const post = () =>
      new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: t.port, method: 'POST', agent: false, headers: { expect: '100-continue' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('continue', () => req.end('payload'));
        req.on('error', reject);
      });
    expect(await post()).toBe('plain'); // no checkContinue listener: Node answered 100 and emitted 'request'
    t.server.on('checkContinue', withContinue);
    expect(await post()).toBe('continued');
    expect(continued).toBe(1);
    expect(trackedOnArrival).toEqual([true]);
    await waitForReleases(t, 2);
    expect(t.releases.map((c) => c.outcome)).toEqual(['finished', 'finished']);
  });

  it('HTTP/1.1 requests on an HTTP/2 server with allowHTTP1 are tracked', async () => {
    const key = readFileSync(new URL('./helpers/tls-key.pem', import.meta.url));
    const cert = readFileSync(new URL('./helpers/tls-cert.pem', import.meta.url));
    const server = http2.createSecureServer({ key, cert, allowHTTP1: true }, (_req, res) => res.end('either'));
    const registry = createRegistry();
    const releases: ReleasedConnection[] = [];
    registry.onRelease((c) => releases.push(c));
    instrument(server, { registry });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closeAfter(() => new Promise((r) => server.close(() => r())));
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: cert, agent: false }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    expect(body).toBe('either');
    await waitFor(() => releases.length === 1, 'release');
    expect(releases[0]).toMatchObject({ transport: 'https', outcome: 'finished' });
  });
});
