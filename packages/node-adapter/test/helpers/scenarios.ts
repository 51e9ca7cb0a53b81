import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { createRegistry, type ConnectionOutcome, type Registry, type ReleasedConnection } from '@lifeline/core';
import { instrument, pipeResponse, sendFile, wrapHandler } from '../../src/index.js';
import type { ClientBehaviour } from '../../src/testing/clients.js';

/** What the server does with one request. */
export type ServerBehaviour =
  | { kind: 'end' }
  | { kind: 'hang' }
  | { kind: 'stream' }
  | { kind: 'file' }
  | { kind: 'errorAt'; bytes: number }
  | { kind: 'throw' }
  | { kind: 'destroy' };


/** One client's session against the server. */
export type Scenario =
  | { kind: 'single'; server: ServerBehaviour; client: ClientBehaviour }
  | { kind: 'keep-alive'; servers: ServerBehaviour[] }
  | { kind: 'pipelined'; count: number; dies: boolean };

/** Bigger than anything loopback socket buffers hold, so a client that stops reading stops the response. */
export const BIG_BODY = 16 * 1024 * 1024;

let bigFile: string | undefined;
export function bigFilePath(): string {
  if (bigFile === undefined) {
    bigFile = join(mkdtempSync(join(tmpdir(), 'lifeline-')), 'big.bin');
    writeFileSync(bigFile, Buffer.alloc(BIG_BODY, 'f'));
  }
  return bigFile;
}

function generated(total: number, failAt?: number): Readable {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 'g');
  return new Readable({
    read() {
      if (failAt !== undefined && sent >= failAt) {
        this.destroy(Object.assign(new Error(`source failed after ${sent} bytes`), { code: 'ESOURCE' }));
        return;
      }
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - sent, failAt === undefined ? Infinity : Math.max(1, failAt - sent));
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** How a release reads in these tests: its outcome, and the reason of its ending fact when it has one. */
export function endingOf(c: ReleasedConnection): string {
  const reason = (c.event as { reason?: string }).reason;
  return reason === undefined ? c.outcome : `${c.outcome} (${reason})`;
}

/**
 * The specification's answer: the endings (outcome and reason) each pairing may have. A client that
 * stops reading mid-body and closes its socket with bytes still unread makes its kernel send a RST,
 * so the server sees it leave either by the response's close (aborted) or by the socket's ECONNRESET
 * first (reset); a client that resets is always a reset.
 */
export function predictedEndings(server: ServerBehaviour, client: ClientBehaviour): readonly string[] {
  if (server.kind === 'throw') return ['errored (handler-error)'];
  if (server.kind === 'errorAt') return ['errored (stream-error)'];
  if (server.kind === 'destroy') return ['errored (destroyed)'];
  if (client.kind === 'read-all') return ['finished'];
  if (client.kind === 'abort-before-headers') return ['closed (aborted)'];
  if (client.kind === 'reset-at') return ['closed (reset)'];
  return ['closed (aborted)', 'closed (reset)'];
}

const serverThatAnswers = fc.oneof(
  fc.constant<ServerBehaviour>({ kind: 'end' }),
  fc.constant<ServerBehaviour>({ kind: 'stream' }),
  fc.constant<ServerBehaviour>({ kind: 'file' }),
);

/** Only pairings whose outcome does not depend on a race between the two sides. */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.oneof(
  fc.record({ kind: fc.constant('single' as const), server: serverThatAnswers, client: fc.constant<ClientBehaviour>({ kind: 'read-all' }) }),
  fc.record({
    kind: fc.constant('single' as const),
    server: fc.oneof(
      fc.integer({ min: 0, max: 512 * 1024 }).map<ServerBehaviour>((bytes) => ({ kind: 'errorAt', bytes })),
      fc.constant<ServerBehaviour>({ kind: 'throw' }),
      fc.constant<ServerBehaviour>({ kind: 'destroy' }),
    ),
    client: fc.constant<ClientBehaviour>({ kind: 'read-all' }),
  }),
  fc.record({
    kind: fc.constant('single' as const),
    server: fc.oneof(fc.constant<ServerBehaviour>({ kind: 'stream' }), fc.constant<ServerBehaviour>({ kind: 'file' })),
    client: fc.oneof(
      fc.integer({ min: 1, max: 256 * 1024 }).map<ClientBehaviour>((bytes) => ({ kind: 'abort-at', bytes })),
      fc.integer({ min: 1, max: 256 * 1024 }).map<ClientBehaviour>((bytes) => ({ kind: 'reset-at', bytes })),
    ),
  }),
  fc.record({ kind: fc.constant('single' as const), server: fc.constant<ServerBehaviour>({ kind: 'hang' }), client: fc.constant<ClientBehaviour>({ kind: 'abort-before-headers' }) }),
  fc.record({ kind: fc.constant('keep-alive' as const), servers: fc.array(serverThatAnswers, { minLength: 1, maxLength: 5 }) }),
  fc.record({ kind: fc.constant('pipelined' as const), count: fc.integer({ min: 2, max: 5 }), dies: fc.boolean() }),
);

/** Encodes a behaviour in the request path, so the server needs no shared state to know it. */
export function pathFor(tag: string, server: ServerBehaviour): string {
  return `/${tag}/${server.kind}/${server.kind === 'errorAt' ? server.bytes : 0}`;
}

/** Tells the test when a request has reached the handler. */
export type Arrivals = Map<string, () => void>;

/** The server side of the scenarios: one handler, driven by the path. */
export function scenarioHandler(arrivals: Arrivals): RequestListener {
  return wrapHandler(
    (req, res) => {
      const [, tag, kind, param] = (req.url ?? '').split('/');
      arrivals.get(tag!)?.();
      switch (kind) {
        case 'end':
          return void res.end('ok');
        case 'hang':
          return;
        case 'stream':
          res.setHeader('content-length', BIG_BODY);
          return pipeResponse(res, generated(BIG_BODY));
        case 'file':
          return sendFile(res, bigFilePath());
        case 'errorAt':
          res.setHeader('content-length', BIG_BODY);
          return pipeResponse(res, generated(BIG_BODY, Number(param)));
        case 'throw':
          throw new Error('handler threw');
        case 'destroy':
          res.writeHead(200);
          res.write('partial');
          return void setImmediate(() => res.destroy(Object.assign(new Error('server destroyed it'), { code: 'EDESTROYED' })));
        default:
          res.statusCode = 400;
          res.end();
      }
    },
    { onHandlerError: () => {} },
  );
}

export { rawRequest, runKeepAlive, runRawClient, type ClientBehaviour } from '../../src/testing/clients.js';

/** A scenario server for one property run: instrumented, tagging each release with its request's tag. */
export interface ScenarioServer {
  port: number;
  registry: Registry<{ tag: string }>;
  arrivals: Arrivals;
  /** Tag → every outcome released for it (exactly one, when all is well). */
  outcomes: Map<string, ConnectionOutcome[]>;
  /** Tag → every ending released for it, as {@link endingOf} writes it. */
  endings: Map<string, string[]>;
  close(): Promise<void>;
}

export async function startScenarioServer(): Promise<ScenarioServer> {
  const registry = createRegistry<{ tag: string }>({ journalSize: 0 });
  const outcomes = new Map<string, ConnectionOutcome[]>();
  const endings = new Map<string, string[]>();
  registry.onRelease((c) => {
    outcomes.set(c.meta!.tag, [...(outcomes.get(c.meta!.tag) ?? []), c.outcome]);
    endings.set(c.meta!.tag, [...(endings.get(c.meta!.tag) ?? []), endingOf(c)]);
  });
  const server = createServer();
  instrument(server, { registry, meta: (req) => ({ tag: (req.url ?? '').split('/')[1]! }) });
  const arrivals: Arrivals = new Map();
  server.on('request', scenarioHandler(arrivals));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    registry,
    arrivals,
    outcomes,
    endings,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
