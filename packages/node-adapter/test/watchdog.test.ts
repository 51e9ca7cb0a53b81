import http2 from 'node:http2';
import { Readable } from 'node:stream';
import { InvalidOptionsError, type ConnectionInfo } from '@lifeline/core';
import { describe, expect, it } from 'vitest';
import { pipeResponse, startWatchdog, type SendResult } from '../src/index.js';
import { request } from './helpers/client.js';
import { h2close, h2connect, h2request } from './helpers/h2.js';
import { sleep, startHttp1, startHttp2, waitFor, waitForReleases } from './helpers/server.js';

/** A source that pushes `steps` chunks of `chunkBytes`, one every `everyMs`. */
function steadySource(steps: number, chunkBytes: number, everyMs: number): Readable {
  let pushed = 0;
  let timer: NodeJS.Timeout | undefined;
  return new Readable({
    read() {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        pushed++;
        this.push(Buffer.alloc(chunkBytes, 0x63));
        if (pushed === steps) this.push(null);
      }, everyMs);
    },
    destroy(error, callback) {
      clearTimeout(timer);
      callback(error);
    },
  });
}

describe('startWatchdog over a real 127.0.0.1 socket', () => {
  it('ends a request whose handler never responds: 503, errored (timeout)', async () => {
    const t = await startHttp1(() => {});
    const watchdog = startWatchdog(t.registry, { idleTimeout: 100 });
    try {
      const started = Date.now();
      const r = await request(t.port);
      expect(r.status).toBe(503);
      expect(r.body.toString()).toBe('Service Unavailable\n');
      expect(Date.now() - started).toBeGreaterThanOrEqual(95);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { type: 'ERROR', reason: 'timeout' } });
      expect(t.registry.size).toBe(0);
    } finally {
      watchdog.stop();
      await t.close();
    }
  });

  it('does not kill a streaming response that keeps making progress through pipeResponse (> 256 KiB per step)', async () => {
    // A step every 25 ms against idleTimeout 150: progress must reset the idle clock, the total lasts > idleTimeout.
    const STEPS = 10;
    const CHUNK = 300 * 1024;
    let result: SendResult | undefined;
    const t = await startHttp1(async (_req, res) => {
      res.writeHead(200, { 'content-length': STEPS * CHUNK });
      result = await pipeResponse(res, steadySource(STEPS, CHUNK, 25));
    });
    const watchdog = startWatchdog(t.registry, { idleTimeout: 150 });
    try {
      const started = Date.now();
      const r = await request(t.port);
      expect(Date.now() - started).toBeGreaterThan(200); // past idleTimeout
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      expect(r.body.length).toBe(STEPS * CHUNK);
      await waitForReleases(t, 1);
      expect(t.releases.map((c) => c.outcome)).toEqual(['finished']);
      expect(t.releases[0]!.journal.filter((j) => j.event.type === 'DATA').length).toBeGreaterThanOrEqual(STEPS - 1);
      await waitFor(() => result !== undefined, 'pipeResponse to resolve');
      expect(result).toMatchObject({ bytes: STEPS * CHUNK, outcome: 'finished' });
    } finally {
      watchdog.stop();
      await t.close();
    }
  });

  it('cuts a response that started and then stalls: errored (timeout), the client sees a truncated body', async () => {
    const t = await startHttp1((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('only this');
    });
    const watchdog = startWatchdog(t.registry, { idleTimeout: 100 });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('only this');
      expect(r.complete).toBe(false);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'timeout' } });
    } finally {
      watchdog.stop();
      await t.close();
    }
  });

  it('maxAge ends a connection however much progress it makes', async () => {
    const t = await startHttp1((_req, res) => {
      res.writeHead(200);
      void pipeResponse(res, steadySource(100, 300 * 1024, 20));
    });
    const watchdog = startWatchdog(t.registry, { maxAge: 150 });
    try {
      const started = Date.now();
      const r = await request(t.port);
      expect(r.complete).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_000);
      await waitForReleases(t, 1);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'timeout' } });
    } finally {
      watchdog.stop();
      await t.close();
    }
  });

  it('onStale is told about each stale connection before it is ended', async () => {
    const stale: ConnectionInfo[] = [];
    const t = await startHttp1(() => {});
    const watchdog = startWatchdog(t.registry, {
      idleTimeout: 50,
      onStale: (c) => stale.push(c),
    });
    try {
      const r = await request(t.port);
      expect(r.status).toBe(503);
      await waitForReleases(t, 1);
      expect(stale).toHaveLength(1);
      expect(stale[0]).toMatchObject({ id: t.releases[0]!.id, state: 'open', transport: 'http1' });
    } finally {
      watchdog.stop();
      await t.close();
    }
  });

  it('stop() stops the sweeping; sweep() still works on demand and returns how many it ended', async () => {
    let handled = false;
    const t = await startHttp1(() => {
      handled = true;
    });
    const watchdog = startWatchdog(t.registry, { idleTimeout: 50 });
    watchdog.stop();
    const response = request(t.port);
    try {
      await waitFor(() => handled, 'the handler');
      await sleep(200); // four idle periods
      expect(t.registry.size).toBe(1);
      expect(t.releases).toHaveLength(0);
      // The first look starts the socket's byte history: until it has stood still for idleTimeout, nothing is idle.
      expect(watchdog.sweep()).toBe(0);
      await sleep(60);
      expect(watchdog.sweep()).toBe(1);
      expect((await response).status).toBe(503);
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'timeout' } });
      expect(watchdog.sweep()).toBe(0);
    } finally {
      await t.close();
      await response;
    }
  });

  it('rejects bad options with an InvalidOptionsError naming the option', async () => {
    const t = await startHttp1(() => {});
    try {
      const cases: [unknown, string][] = [
        [{}, 'idleTimeout'],
        [{ idleTimeout: -1 }, 'idleTimeout'],
        [{ maxAge: 'soon' }, 'maxAge'],
        [{ idleTimeout: 100, interval: 0 }, 'interval'],
        [{ idleTimeout: 100, onStale: 'log' }, 'onStale'],
        [{ idleTimeout: 100, idle: 5 }, 'idle'],
      ];
      for (const [options, name] of cases) {
        let caught: unknown;
        try {
          startWatchdog(t.registry, options as never);
        } catch (error) {
          caught = error;
        }
        expect(caught, JSON.stringify(options)).toBeInstanceOf(InvalidOptionsError);
        expect((caught as Error).message).toContain('startWatchdog');
        expect((caught as Error).message).toContain(`"${name}"`);
        expect((caught as InvalidOptionsError).options).toContain(name);
      }
    } finally {
      await t.close();
    }
  });
});

describe('startWatchdog cutting an HTTP/2 core-API stream', () => {
  it('resets a started stream with INTERNAL_ERROR without an uncaught error, even when the app has no stream error listener', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    const t = await startHttp2({
      stream: (stream) => {
        stream.respond({ ':status': 200 });
        stream.write('partial');
      },
    });
    const watchdog = startWatchdog(t.registry, { idleTimeout: 100 });
    const session = await h2connect(t.port);
    try {
      const r = await h2request(session);
      await waitForReleases(t, 1);
      await sleep(20); // an uncaught error would surface on the next turns
      expect(r).toMatchObject({ status: 200, ended: false, rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR });
      expect(r.body.toString()).toBe('partial');
      expect(t.releases[0]).toMatchObject({ outcome: 'errored', event: { reason: 'timeout' } });
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      watchdog.stop();
      await h2close(session);
      await t.close();
    }
  });
});
