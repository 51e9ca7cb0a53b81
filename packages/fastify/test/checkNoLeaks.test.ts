import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { checkNoLeaks, LeakError } from '@lifeline/node-adapter/testing';
import { describe, expect, it } from 'vitest';
import { lifeline } from '../src/index.js';

const CHUNK = Buffer.alloc(64 * 1024, 'f');
const CHUNKS = 8;

/**
 * A download that takes time: 8 chunks of 64 KiB, 5 ms apart. A client that leaves early then always finds
 * it mid-body. (One 2 MiB buffer sent at once could sit whole in the loopback socket buffers, so the response
 * finished before any client left, and the "closed" ending went untested on some runs.)
 */
function slowDownload(): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < CHUNKS; i++) {
        if (i > 0) await sleep(5);
        yield CHUNK;
      }
    })(),
  );
}

/** A fastify app with per-request bookkeeping freed by `free`, and its request handler for checkNoLeaks. */
async function appWithSessions(free: 'onEnd' | 'onResponse') {
  const app = Fastify();
  await app.register(lifeline);
  const sessions = new Set<object>();
  app.get('/download', async (request, reply) => {
    const session = {};
    sessions.add(session);
    if (free === 'onEnd') request.lifeline.onEnd(() => sessions.delete(session));
    // Freed on the response's finish only: the original bug, in a fastify route.
    else reply.raw.once('finish', () => sessions.delete(session));
    return reply.type('application/octet-stream').send(slowDownload());
  });
  await app.ready();
  // fastify's own request handler, as serverFactory would receive it: checkNoLeaks runs it on its own server.
  const handler = app.routing;
  return { app, sessions, handler };
}

describe('checkNoLeaks on a fastify app with @lifeline/fastify', () => {
  it('passes an app that frees its bookkeeping on request.lifeline.onEnd', async () => {
    const { app, sessions, handler } = await appWithSessions('onEnd');
    try {
      const report = await checkNoLeaks(handler, { inFlight: () => sessions.size, paths: ['/download'], numRuns: 20, timeBudgetMs: 60_000 });
      expect(report.runs).toBe(20);
      expect(report.outcomes.closed).toBeGreaterThan(0);
      expect(sessions.size).toBe(0);
    } finally {
      await app.close();
    }
  }, 90_000);

  it('finds the leak in an app that frees its bookkeeping on finish only', async () => {
    const { app, sessions, handler } = await appWithSessions('onResponse');
    try {
      const error = await checkNoLeaks(handler, { inFlight: () => sessions.size, paths: ['/download'], seed: 5, settleMs: 300, timeBudgetMs: 60_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LeakError);
      expect((error as Error).message).toMatch(/remained in your inFlight\(\) count[\s\S]*GET \/download/);
    } finally {
      await app.close();
    }
  }, 90_000);
});
