import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { createRegistry, InvalidOptionsError, type ReleasedConnection } from '@lifeline/core';
import { ConnectionClosedError, connectionOf, instrument, type DrainResult } from '@lifeline/node-adapter';
import { afterEach, describe, expect, it } from 'vitest';
import lifelineDefault, { lifeline } from '../src/index.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close().catch(() => {});
});

async function appWith(options: Parameters<typeof lifeline>[1] = {}): Promise<{ app: FastifyInstance; releases: ReleasedConnection[] }> {
  const app = Fastify();
  apps.push(app);
  await app.register(lifeline, options);
  const releases: ReleasedConnection[] = [];
  app.lifeline.onRelease((c) => releases.push(c));
  return { app, releases };
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A GET that never rejects: what the client saw, or `status: undefined` when no head arrived. */
function get(port: number, path: string, onRequest?: (req: http.ClientRequest) => void): Promise<{ status?: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', () => {});
      res.on('close', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', () => resolve({ status: undefined, body: '' }));
    onRequest?.(req);
  });
}

describe('@lifeline/fastify through inject()', () => {
  it('tracks an injected request: request.lifeline is its open connection, released as finished once', async () => {
    const { app, releases } = await appWith();
    const seen: unknown[] = [];
    app.get('/', async (request) => {
      seen.push(request.lifeline === connectionOf(request.raw), request.lifeline.state, app.lifeline.size);
      return 'ok';
    });
    const response = await app.inject('/');
    expect(response.statusCode).toBe(200);
    expect(seen).toEqual([true, 'open', 1]);
    await waitFor(() => releases.length === 1, 'the release');
    expect(releases.map((c) => [c.transport, c.outcome])).toEqual([['http1', 'finished']]);
    expect(app.lifeline.size).toBe(0);
    expect(app.lifeline.stats().opened).toBe(1);
  });

  it('classifies an injected response destroyed mid-body as closed, and aborts the signal', async () => {
    const { app, releases } = await appWith();
    let signal: AbortSignal | undefined;
    app.get('/stream', (request, reply) => {
      signal = request.lifeline.signal;
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.write('first chunk');
      // never ends: the consumer leaves instead
    });
    const response = await app.inject({ method: 'GET', url: '/stream', payloadAsStream: true });
    // light-my-request does not pass a consumer's abandoned stream back to the response: cut it as a socket would.
    response.stream().destroy();
    (response.raw.res as http.ServerResponse).destroy();
    await waitFor(() => releases.length === 1, 'the release');
    expect(releases[0]?.outcome).toBe('closed');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(ConnectionClosedError);
  });

  it('gives each injected request its own connection and keeps meta', async () => {
    const { app, releases } = await appWith({ meta: (req) => ({ url: req.url }) });
    app.get('/:n', async (request) => request.lifeline.id);
    const ids = await Promise.all(['/1', '/2', '/3'].map(async (url) => (await app.inject(url)).body));
    expect(new Set(ids).size).toBe(3);
    await waitFor(() => releases.length === 3, 'three releases');
    expect(releases.map((c) => (c.meta as { url: string }).url).sort()).toEqual(['/1', '/2', '/3']);
    expect(releases.every((c) => c.outcome === 'finished')).toBe(true);
  });

  it('puts request.lifeline on the prototype as a getter: no request gets an own property for it', async () => {
    const { app } = await appWith();
    let own: boolean | undefined;
    app.get('/', async (request) => {
      own = Object.prototype.hasOwnProperty.call(request, 'lifeline');
      return 'ok';
    });
    await app.inject('/');
    expect(own).toBe(false);
  });
});

describe('@lifeline/fastify over real 127.0.0.1 sockets', () => {
  it('uses the connection instrument() made for the socket request, in the registry fastify.lifeline', async () => {
    const registry = createRegistry();
    const { app, releases } = await appWith({ registry });
    expect(app.lifeline).toBe(registry);
    const seen: unknown[] = [];
    app.get('/', async (request) => {
      seen.push(request.lifeline === connectionOf(request.raw), request.lifeline.registry === registry);
      return 'hello';
    });
    const port = await listen(app);
    const response = await get(port, '/');
    expect(response).toEqual({ status: 200, body: 'hello' });
    expect(seen).toEqual([true, true]);
    await waitFor(() => releases.length === 1, 'the release');
    expect(releases.map((c) => c.outcome)).toEqual(['finished']);
    expect(registry.stats().opened).toBe(1); // the onRequest hook did not track it a second time
  });

  it('aborts request.lifeline.signal and runs onEnd once when the client leaves mid-request', async () => {
    const { app, releases } = await appWith();
    let signal: AbortSignal | undefined;
    const ends: unknown[] = [];
    app.get('/slow', (request, reply) => {
      signal = request.lifeline.signal;
      request.lifeline.onEnd((outcome) => ends.push(outcome));
      reply.raw.writeHead(200);
      reply.raw.write('partial');
    });
    const port = await listen(app);
    const response = await get(port, '/slow', (req) => req.on('response', (res) => res.once('data', () => req.destroy())));
    expect(response.body).toBe('partial');
    await waitFor(() => releases.length === 1 && ends.length === 1, 'the release and onEnd');
    expect(releases[0]?.outcome).toBe('closed');
    expect(ends).toEqual(['closed']);
    expect(signal?.reason).toBeInstanceOf(ConnectionClosedError);
  });

  it('stops tracking when the instance closes: the server can be instrumented anew afterwards', async () => {
    const { app } = await appWith();
    app.get('/', async () => 'ok');
    await listen(app);
    expect(() => instrument(app.server, { registry: createRegistry() })).toThrow(/instrumented already/);
    await app.close();
    const other = createRegistry();
    expect(instrument(app.server, { registry: other }).registry).toBe(other);
  });

  it('with drain, close() waits for a request in flight that ends before the deadline', async () => {
    const drained: DrainResult[] = [];
    const { app, releases } = await appWith({ drain: { deadline: 5_000, onDrained: (r) => drained.push(r) } });
    let arrived = false;
    app.get('/slow', async () => {
      arrived = true;
      await new Promise((r) => setTimeout(r, 150));
      return 'done';
    });
    const port = await listen(app);
    const response = get(port, '/slow');
    await waitFor(() => arrived, 'the request to arrive');
    await app.close();
    expect(await response).toEqual({ status: 200, body: 'done' });
    expect(drained).toEqual([{ drained: 1, forced: 0 }]);
    expect(releases.map((c) => c.outcome)).toEqual(['finished']);
  });

  it('with drain, close() ends a request still open at the deadline with a 503 (errored, shutdown)', async () => {
    const drained: DrainResult[] = [];
    const { app, releases } = await appWith({ drain: { deadline: 100, onDrained: (r) => drained.push(r) } });
    let arrived = false;
    app.get('/forever', () => {
      arrived = true; // never answers
    });
    const port = await listen(app);
    const response = get(port, '/forever');
    await waitFor(() => arrived, 'the request to arrive');
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await response).status).toBe(503);
    expect(drained).toEqual([{ drained: 0, forced: 1 }]);
    expect(releases.map((c) => [c.outcome, (c.event as { reason?: string }).reason])).toEqual([['errored', 'shutdown']]);
  });

  it('with drain, close() also waits for an injected request in flight', async () => {
    const drained: DrainResult[] = [];
    const { app } = await appWith({ drain: { deadline: 100, onDrained: (r) => drained.push(r) } });
    let arrived = false;
    app.get('/forever', () => {
      arrived = true;
    });
    await app.ready();
    const injected = app.inject('/forever');
    await waitFor(() => arrived, 'the request to arrive');
    await app.close();
    expect((await injected).statusCode).toBe(503);
    expect(drained).toEqual([{ drained: 0, forced: 1 }]);
  });
});

describe('@lifeline/fastify over HTTP/2 (fastify({ http2: true }))', () => {
  it('gives each stream its connection as request.lifeline, released as finished', async () => {
    const app = Fastify({ http2: true });
    apps.push(app as unknown as FastifyInstance);
    await app.register(lifeline);
    const releases: ReleasedConnection[] = [];
    app.lifeline.onRelease((c) => releases.push(c));
    const seen: unknown[] = [];
    app.get('/', async (request) => {
      seen.push(request.lifeline.transport, request.lifeline === connectionOf(request.raw));
      return 'h2';
    });
    const port = await listen(app as unknown as FastifyInstance);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let data = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (data += c));
        stream.on('end', () => resolve(data));
        stream.on('error', reject);
      });
      expect(body).toBe('h2');
    } finally {
      session.close();
    }
    expect(seen).toEqual(['http2', true]);
    await waitFor(() => releases.length === 1, 'the release');
    expect(releases.map((c) => [c.transport, c.outcome])).toEqual([['http2', 'finished']]);
  });
});

describe('@lifeline/fastify registration', () => {
  it('is the default export too, and declares its name for fastify-plugin', () => {
    expect(lifelineDefault).toBe(lifeline);
    expect((lifeline as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')]).toMatchObject({ name: '@lifeline/fastify', fastify: '5.x' });
  });

  it.each([
    [{ registry: {} }, /"registry": expected a registry/, ['registry']],
    [{ meta: 'url' }, /"meta": expected a function/, ['meta']],
    [{ drain: { deadline: -1 } }, /"drain.deadline": expected a number/, ['drain.deadline']],
    [{ drain: { timeout: 5 } }, /unknown option "drain.timeout"/, ['drain.timeout']],
    [{ drainDeadline: 5 }, /unknown option "drainDeadline"/, ['drainDeadline']],
  ])('rejects bad options %j at registration with an InvalidOptionsError naming the option', async (options, message, names) => {
    const app = Fastify();
    apps.push(app);
    const error = await app.register(lifeline, options as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).code).toBe('LIFELINE_INVALID_OPTIONS');
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidOptionsError).options).toEqual(names);
  });
});
