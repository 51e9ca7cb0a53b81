// Every exported function checks its arguments at the call and fails with a LifelineError whose
// code is stable and whose message names the function, the argument, what it got and the fix.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { createRegistry, errorReasons, InvalidArgumentError, InvalidOptionsError, LifelineError } from '@lifeline/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  connectionOf,
  drain,
  instrument,
  pipeResponse,
  sendFile,
  startWatchdog,
  subscribeOpen,
  subscribeRelease,
  track,
  trackSocket,
  trackStream,
  wrapHandler,
} from '../src/index.js';
import { checkNoLeaks, rawRequest, runKeepAlive, runRawClient } from '../src/testing/index.js';

const registry = createRegistry();
const server = http.createServer();
const instrumentation = instrument(http.createServer(), { registry: createRegistry() });

/** A request/response pair built without a network: enough for arguments to be judged valid. */
function offlinePair() {
  const req = new http.IncomingMessage(new net.Socket());
  return { req, res: new http.ServerResponse(req) };
}
const { req, res } = offlinePair();
const connection = track(req, res, { registry });
afterAll(() => connection.fail('shutdown', undefined, { terminate: false }));

// An Express app is a function (req, res, next) with .listen(); a Koa app an EventEmitter with .callback() and .listen().
const expressApp = Object.assign((_req: unknown, _res: unknown, _next: unknown) => {}, { listen() {}, use() {} });
class Application extends EventEmitter {
  callback() {
    return () => {};
  }
  listen() {}
}
const koaApp = new Application();

interface Case {
  /** What the test name says is passed. */
  readonly what: string;
  readonly call: () => unknown;
  /** `true` for the functions that return a promise: they reject instead of throwing. */
  readonly async?: boolean;
  readonly error: typeof InvalidArgumentError | typeof InvalidOptionsError;
  readonly where: string;
  readonly argument: string;
  /** Text the message must also hold: what was received, or the fix. */
  readonly mentions?: readonly string[];
}

const A = InvalidArgumentError;
const O = InvalidOptionsError;
const fix = ['instrument(app.listen(port))'];
/** The fix for anything that is neither a Node server nor a framework app: how to make a server. */
const makeAServer = ['http.createServer()', 'http2.createSecureServer()'];

const cases: Case[] = [
  { what: 'instrument(null)', call: () => instrument(null as never), error: A, where: 'instrument', argument: 'server', mentions: ['received null', ...makeAServer] },
  { what: 'instrument(undefined)', call: () => instrument(undefined as never), error: A, where: 'instrument', argument: 'server', mentions: ['received undefined', ...makeAServer] },
  { what: 'instrument({})', call: () => instrument({} as never), error: A, where: 'instrument', argument: 'server', mentions: ['a plain object', ...makeAServer] },
  { what: 'instrument(an object whose prototype has no constructor)', call: () => instrument(Object.create(Object.create(null)) as never), error: A, where: 'instrument', argument: 'server' },
  {
    what: 'instrument(expressApp)',
    call: () => instrument(expressApp as never),
    error: A,
    where: 'instrument',
    argument: 'server',
    mentions: ['Express-style app', ...fix, 'instrument(http.createServer(app))'],
  },
  {
    what: 'instrument(koaApp)',
    call: () => instrument(koaApp as never),
    error: A,
    where: 'instrument',
    argument: 'server',
    mentions: ['Koa-style app', ...fix, 'instrument(http.createServer(app.callback()))'],
  },
  { what: 'instrument(net.Server)', call: () => instrument(net.createServer() as never), error: A, where: 'instrument', argument: 'server', mentions: ['a Server', ...makeAServer] },
  { what: "instrument(server, 'yes')", call: () => instrument(server, 'yes' as never), error: A, where: 'instrument', argument: 'options', mentions: ['"yes"'] },
  { what: 'track(null, res, { registry })', call: () => track(null as never, res, { registry }), error: A, where: 'track', argument: 'req' },
  { what: 'track({}, {}, { registry })', call: () => track({} as never, {} as never, { registry }), error: A, where: 'track', argument: 'req' },
  { what: 'track(undefined, res, { registry })', call: () => track(undefined as never, res, { registry }), error: A, where: 'track', argument: 'req' },
  {
    what: 'track(a request built without a socket, res, { registry })',
    call: () => track(new http.IncomingMessage(null as never), res, { registry }),
    error: A,
    where: 'track',
    argument: 'req',
    mentions: ['IncomingMessage'],
  },
  { what: 'track(req, {}, { registry })', call: () => track(offlinePair().req, {} as never, { registry }), error: A, where: 'track', argument: 'res' },
  { what: 'track(req, undefined, { registry })', call: () => track(offlinePair().req, undefined as never, { registry }), error: A, where: 'track', argument: 'res' },
  { what: 'track(req, null, { registry })', call: () => track(offlinePair().req, null as never, { registry }), error: A, where: 'track', argument: 'res' },
  { what: 'track(req, res, {})', call: () => track(offlinePair().req, offlinePair().res, {} as never), error: O, where: 'track', argument: 'registry' },
  { what: 'trackStream(null, { registry })', call: () => trackStream(null as never, { registry }), error: A, where: 'trackStream', argument: 'stream' },
  { what: 'trackStream(res, { registry })', call: () => trackStream(res as never, { registry }), error: A, where: 'trackStream', argument: 'stream', mentions: ['a ServerResponse'] },
  { what: 'trackStream(stream, {})', call: () => trackStream({} as never, {} as never), error: O, where: 'trackStream', argument: 'registry' },
  { what: 'trackSocket(undefined, { registry })', call: () => trackSocket(undefined as never, { registry }), error: A, where: 'trackSocket', argument: 'socket' },
  { what: "trackSocket('sock', { registry })", call: () => trackSocket('sock' as never, { registry }), error: A, where: 'trackSocket', argument: 'socket' },
  { what: 'trackSocket(an emitter without destroy, { registry })', call: () => trackSocket(Object.assign(new EventEmitter(), { end() {} }) as never, { registry }), error: A, where: 'trackSocket', argument: 'socket' },
  { what: 'trackSocket(an emitter without end, { registry })', call: () => trackSocket(Object.assign(new EventEmitter(), { destroy() {} }) as never, { registry }), error: A, where: 'trackSocket', argument: 'socket' },
  { what: 'trackSocket(socket, { registry: {} })', call: () => trackSocket(new net.Socket(), { registry: {} as never }), error: O, where: 'trackSocket', argument: 'registry' },
  { what: 'connectionOf(null)', call: () => connectionOf(null as never), error: A, where: 'connectionOf', argument: 'target' },
  { what: "connectionOf('req')", call: () => connectionOf('req' as never), error: A, where: 'connectionOf', argument: 'target' },
  { what: 'instrumentation.connectionOf(undefined)', call: () => instrumentation.connectionOf(undefined as never), error: A, where: 'connectionOf', argument: 'target' },
  { what: "sendFile(null, '/x')", call: () => sendFile(null as never, '/x'), async: true, error: A, where: 'sendFile', argument: 'res' },
  { what: 'sendFile(res, 42)', call: () => sendFile(res, 42 as never), async: true, error: A, where: 'sendFile', argument: 'path', mentions: ['the number 42'] },
  { what: "sendFile(res, '')", call: () => sendFile(res, ''), async: true, error: A, where: 'sendFile', argument: 'path' },
  { what: "sendFile(res, '/x', 'json')", call: () => sendFile(res, '/x', 'json' as never), async: true, error: A, where: 'sendFile', argument: 'options' },
  { what: "sendFile(res, '/x', { type })", call: () => sendFile(res, '/x', { type: 'json' } as never), async: true, error: O, where: 'sendFile', argument: 'type' },
  { what: 'pipeResponse(null, source)', call: () => pipeResponse(null as never, Readable.from([])), async: true, error: A, where: 'pipeResponse', argument: 'res' },
  { what: "pipeResponse(res, 'text')", call: () => pipeResponse(res, 'text' as never), async: true, error: A, where: 'pipeResponse', argument: 'source' },
  { what: 'pipeResponse(res, null)', call: () => pipeResponse(res, null as never), async: true, error: A, where: 'pipeResponse', argument: 'source', mentions: ['received null'] },
  { what: 'pipeResponse(res, undefined)', call: () => pipeResponse(res, undefined as never), async: true, error: A, where: 'pipeResponse', argument: 'source', mentions: ['received undefined'] },
  { what: 'pipeResponse(res, source, 5)', call: () => pipeResponse(res, Readable.from([]), 5 as never), async: true, error: A, where: 'pipeResponse', argument: 'options' },
  { what: 'pipeResponse(res, source, { expected })', call: () => pipeResponse(res, Readable.from([]), { expected: 3 } as never), async: true, error: O, where: 'pipeResponse', argument: 'expected' },
  { what: 'pipeResponse(res, source, { expectedBytes: -1 })', call: () => pipeResponse(res, Readable.from([]), { expectedBytes: -1 }), async: true, error: O, where: 'pipeResponse', argument: 'expectedBytes', mentions: ['got -1'] },
  { what: 'pipeResponse(res, source, { expectedBytes: 1.5 })', call: () => pipeResponse(res, Readable.from([]), { expectedBytes: 1.5 }), async: true, error: O, where: 'pipeResponse', argument: 'expectedBytes', mentions: ['got 1.5'] },
  { what: "wrapHandler('nope')", call: () => wrapHandler('nope' as never), error: A, where: 'wrapHandler', argument: 'handler', mentions: ['"nope"'] },
  { what: 'wrapHandler(fn, { registy })', call: () => wrapHandler(() => {}, { registy: registry } as never), error: O, where: 'wrapHandler', argument: 'registy' },
  { what: "wrapHandler(fn, { onHandlerError: 'log' })", call: () => wrapHandler(() => {}, { onHandlerError: 'log' } as never), error: O, where: 'wrapHandler', argument: 'onHandlerError' },
  { what: 'wrapHandler(fn, { registry: {} })', call: () => wrapHandler(() => {}, { registry: {} as never }), error: O, where: 'wrapHandler', argument: 'registry' },
  { what: 'wrapHandler(fn, true)', call: () => wrapHandler(() => {}, true as never), error: A, where: 'wrapHandler', argument: 'options' },
  { what: 'startWatchdog(null, …)', call: () => startWatchdog(null as never, { idleTimeout: 100 }), error: A, where: 'startWatchdog', argument: 'registry' },
  { what: 'startWatchdog(server, …)', call: () => startWatchdog(server as never, { idleTimeout: 100 }), error: A, where: 'startWatchdog', argument: 'registry', mentions: ['a Server', 'instrument(server).registry'] },
  { what: "startWatchdog(registry, 'fast')", call: () => startWatchdog(registry, 'fast' as never), error: A, where: 'startWatchdog', argument: 'options' },
  { what: 'drain(null)', call: () => drain(null as never), async: true, error: A, where: 'drain', argument: 'registry' },
  { what: 'drain(registry, 5000)', call: () => drain(registry, 5000 as never), async: true, error: A, where: 'drain', argument: 'options' },
  { what: "checkNoLeaks('nope')", call: () => checkNoLeaks('nope' as never), async: true, error: A, where: 'checkNoLeaks', argument: 'handler' },
  { what: 'checkNoLeaks(fn, { paths: [] })', call: () => checkNoLeaks(() => {}, { paths: [] }), async: true, error: O, where: 'checkNoLeaks', argument: 'paths' },
  { what: "checkNoLeaks(fn, { paths: ['x'] })", call: () => checkNoLeaks(() => {}, { paths: ['x'] }), async: true, error: O, where: 'checkNoLeaks', argument: 'paths.0' },
  { what: 'checkNoLeaks(fn, { runs })', call: () => checkNoLeaks(() => {}, { runs: 3 } as never), async: true, error: O, where: 'checkNoLeaks', argument: 'runs' },
  { what: 'checkNoLeaks(fn, [])', call: () => checkNoLeaks(() => {}, [] as never), async: true, error: A, where: 'checkNoLeaks', argument: 'options' },
  { what: "checkNoLeaks(fn, { paths: ['/a b'] })", call: () => checkNoLeaks(() => {}, { paths: ['/a b'] }), async: true, error: O, where: 'checkNoLeaks', argument: 'paths.0' },
  { what: 'rawRequest(undefined, true)', call: () => rawRequest(undefined as never, true), error: A, where: 'rawRequest', argument: 'path' },
  { what: "rawRequest('/', 'yes')", call: () => rawRequest('/', 'yes' as never), error: A, where: 'rawRequest', argument: 'close' },
  { what: "rawRequest('/', true, 'get')", call: () => rawRequest('/', true, 'get'), error: A, where: 'rawRequest', argument: 'method' },
  { what: "runRawClient('8080', …)", call: () => runRawClient('8080' as never, 'x', { kind: 'read-all' }, Promise.resolve()), async: true, error: A, where: 'runRawClient', argument: 'port' },
  { what: 'runRawClient(port, Buffer, …)', call: () => runRawClient(1, Buffer.from('x') as never, { kind: 'read-all' }, Promise.resolve()), async: true, error: A, where: 'runRawClient', argument: 'payload' },
  { what: "runRawClient(port, payload, { kind: 'abort' })", call: () => runRawClient(1, 'x', { kind: 'abort' } as never, Promise.resolve()), async: true, error: A, where: 'runRawClient', argument: 'behaviour' },
  { what: "runRawClient(port, payload, { kind: 'abort-at' })", call: () => runRawClient(1, 'x', { kind: 'abort-at' } as never, Promise.resolve()), async: true, error: A, where: 'runRawClient', argument: 'behaviour' },
  { what: 'runRawClient(port, payload, behaviour, null)', call: () => runRawClient(1, 'x', { kind: 'read-all' }, null as never), async: true, error: A, where: 'runRawClient', argument: 'arrived' },
  { what: 'runRawClient(…, timeoutMs: 0)', call: () => runRawClient(1, 'x', { kind: 'read-all' }, Promise.resolve(), 0), async: true, error: A, where: 'runRawClient', argument: 'timeoutMs' },
  { what: "runKeepAlive(0, ['/'])", call: () => runKeepAlive(0, ['/']), async: true, error: A, where: 'runKeepAlive', argument: 'port' },
  { what: "runKeepAlive(port, '/')", call: () => runKeepAlive(1, '/' as never), async: true, error: A, where: 'runKeepAlive', argument: 'paths' },
  { what: "runKeepAlive(port, ['/'], -1)", call: () => runKeepAlive(1, ['/'], -1), async: true, error: A, where: 'runKeepAlive', argument: 'timeoutMs' },
  {
    what: "connection.fail('oops')",
    call: () => connection.fail('oops' as never),
    error: A,
    where: 'connection.fail',
    argument: 'reason',
    // The message lists every reason it accepts, quoted and comma-separated.
    mentions: [`expected one of ${errorReasons.map((r) => `'${r}'`).join(', ')}, received the string "oops"`],
  },
  { what: 'connection.fail(reason, error, null)', call: () => connection.fail('handler-error', new Error('x'), null as never), error: A, where: 'connection.fail', argument: 'options' },
  { what: 'connection.fail(reason, error, true)', call: () => connection.fail('handler-error', new Error('x'), true as never), error: A, where: 'connection.fail', argument: 'options', mentions: ['the boolean true'] },
  {
    what: "connection.fail(reason, error, { terminate: 'no' })",
    call: () => connection.fail('handler-error', new Error('x'), { terminate: 'no' as never }),
    error: A,
    where: 'connection.fail',
    argument: 'options',
  },
  { what: 'subscribeOpen(undefined)', call: () => subscribeOpen(undefined as never), error: A, where: 'subscribeOpen', argument: 'listener' },
  { what: "subscribeRelease('log')", call: () => subscribeRelease('log' as never), error: A, where: 'subscribeRelease', argument: 'listener', mentions: ['"log"'] },
  { what: "connection.onEnd('x')", call: () => connection.onEnd('x' as never), error: A, where: 'connection.onEnd', argument: 'listener' },
  { what: 'connection.progress(-1)', call: () => connection.progress(-1), error: A, where: 'connection.progress', argument: 'bytesSent' },
  { what: "connection.progress('10')", call: () => connection.progress('10' as never), error: A, where: 'connection.progress', argument: 'bytesSent' },
];

/** Runs `call`; a sync throw and an async rejection are told apart. */
async function outcomeOf(call: () => unknown): Promise<{ threw?: unknown; rejected?: unknown; returned?: unknown }> {
  let value: unknown;
  try {
    value = call();
  } catch (error) {
    return { threw: error };
  }
  if (value instanceof Promise) {
    try {
      return { returned: await value };
    } catch (error) {
      return { rejected: error };
    }
  }
  return { returned: value };
}

describe('bad arguments fail at the call with a LifelineError naming the argument', () => {
  for (const c of cases) {
    const kind = c.error === A ? 'InvalidArgumentError (LIFELINE_INVALID_ARGUMENT)' : 'InvalidOptionsError (LIFELINE_INVALID_OPTIONS)';
    it(`${c.what} ${c.async ? 'rejects' : 'throws'} ${kind} naming "${c.argument}"`, async () => {
      const outcome = await outcomeOf(c.call);
      const error = c.async ? outcome.rejected : outcome.threw;
      expect(Object.keys(outcome), 'how it failed').toEqual([c.async ? 'rejected' : 'threw']);
      expect(error).toBeInstanceOf(c.error);
      expect(error).toBeInstanceOf(LifelineError);
      const e = error as LifelineError & { argument?: string; options?: readonly string[] };
      expect(e.code).toBe(c.error === A ? 'LIFELINE_INVALID_ARGUMENT' : 'LIFELINE_INVALID_OPTIONS');
      expect(e.name).toBe(c.error === A ? 'InvalidArgumentError' : 'InvalidOptionsError');
      expect(e.message.startsWith(`${c.where}: `), e.message).toBe(true);
      expect(e.message).toContain(`"${c.argument}"`);
      if (c.error === A) {
        expect(e.argument).toBe(c.argument);
        expect(e.message).toMatch(/: expected .+, received .+\. \S/);
      } else {
        expect(e.options).toContain(c.argument);
      }
      for (const text of c.mentions ?? []) expect(e.message).toContain(text);
    });
  }

  it('instrument() refuses an Express app without touching it, and the http.Server it runs on is accepted', () => {
    const app = Object.assign((_req: http.IncomingMessage, res: http.ServerResponse) => res.end(), { listen() {} });
    expect(() => instrument(app as never)).toThrow(InvalidArgumentError);
    const appServer = http.createServer(app);
    const { registry: r } = instrument(appServer);
    expect(r.size).toBe(0);
    expect(appServer.listeners('request')).toHaveLength(2);
  });

  it('startWatchdog(null) throws at the call and starts no timer that could fail later', () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    try {
      expect(() => startWatchdog(null as never, { idleTimeout: 10, interval: 10 })).toThrow(InvalidArgumentError);
      expect(setIntervalSpy).not.toHaveBeenCalled();
      startWatchdog(registry, { idleTimeout: 10, interval: 10 }).stop();
      expect(setIntervalSpy).toHaveBeenCalledTimes(1); // the spy sees the watchdog's timer when there is one
    } finally {
      setIntervalSpy.mockRestore();
    }
  });

  it('drain() with a bad registry rejects before closing the server it was given', async () => {
    const s = http.createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    try {
      await expect(drain({} as never, { server: s })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(s.listening).toBe(true);
    } finally {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  it('a rejected sendFile() leaves the response untouched: nothing sent, nothing ended', async () => {
    const pair = offlinePair();
    await expect(sendFile(pair.res, 7 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect([pair.res.headersSent, pair.res.writableEnded, pair.res.destroyed]).toEqual([false, false, false]);
  });

  it('valid calls of the same functions still work (the checks accept what the types promise)', () => {
    const pair = offlinePair();
    const c = track(pair.req, pair.res, { registry });
    expect(connectionOf(pair.req)).toBe(c);
    expect(connectionOf(pair.res)).toBe(c);
    expect(connectionOf(new net.Socket())).toBeUndefined();
    const ended: unknown[] = [];
    c.onEnd((outcome) => ended.push(outcome));
    c.progress(0);
    c.progress(1024);
    c.fail('handler-error', new Error('boom'), { terminate: false });
    expect(ended).toEqual(['errored']);
    expect(typeof wrapHandler(() => {}, { registry, onHandlerError: () => {} })).toBe('function');
    startWatchdog(registry, { idleTimeout: 60_000 }).stop();
  });
});
