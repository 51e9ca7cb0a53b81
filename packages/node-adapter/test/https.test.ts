import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, type ReleasedConnection } from '@lifeline/core';
import { instrument, track } from '../src/index.js';
import { waitFor } from './helpers/server.js';

// A self-signed certificate for 127.0.0.1, made for these tests only (valid 100 years).
const key = readFileSync(new URL('./helpers/tls-key.pem', import.meta.url));
const cert = readFileSync(new URL('./helpers/tls-cert.pem', import.meta.url));

let server: https.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function startHttps(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) {
  server = https.createServer({ key, cert });
  const registry = createRegistry();
  const releases: ReleasedConnection[] = [];
  registry.onRelease((c) => releases.push(c));
  instrument(server, { registry });
  server.on('request', handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, registry, releases };
}

describe('HTTPS (instrument on an https.Server)', () => {
  it('a normal response is tracked with transport https and finished', async () => {
    const t = await startHttps((_req, res) => res.end('secure'));
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: t.port, ca: cert, agent: false }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    expect(body).toBe('secure');
    await waitFor(() => t.releases.length === 1, 'release');
    expect(t.releases[0]).toMatchObject({ transport: 'https', outcome: 'finished' });
  });

  it('track(req, res, { registry, meta }) without instrument: transport https, the meta kept', async () => {
    const registry = createRegistry<{ path: string }>();
    const releases: ReleasedConnection<{ path: string }>[] = [];
    registry.onRelease((c) => releases.push(c));
    server = https.createServer({ key, cert }, (req, res) => {
      track(req, res, { registry, meta: { path: req.url! } });
      res.end('secure');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: (server!.address() as AddressInfo).port, path: '/report', ca: cert, agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    await waitFor(() => releases.length === 1, 'release');
    expect(releases[0]).toMatchObject({ transport: 'https', meta: { path: '/report' }, outcome: 'finished' });
  });

  it('a client that leaves mid-body over TLS → closed', async () => {
    const t = await startHttps((_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(256 * 1024));
    });
    const socket = tls.connect({ host: '127.0.0.1', port: t.port, ca: cert, servername: undefined });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.destroy();
    await waitFor(() => t.releases.length === 1, 'release');
    expect(t.releases[0]).toMatchObject({ transport: 'https', outcome: 'closed' });
    expect(t.registry.size).toBe(0);
  });
});
