/**
 * The server child: one node:http server in one tracking mode, serving every
 * scenario's route, and answering the parent's IPC commands (measurement
 * windows, heap readings, held-request counts). Runs in its own process so
 * that its `process.cpuUsage()` contains the server's work and nothing of
 * the load generator's. Usage: serverProcess.ts <mode> <file>.
 */
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { cpuWindow } from './cpuWindow.js';
import { warmListenerSites } from './listenerSites.js';
import { createMode, isModeName, type StaticFile } from './modes.js';
import { BODY_HALF_BYTES, HOLD_CHUNK_BYTES, PATHS, type Commands, type Ready, type Reply, type Request, type WindowResult } from './protocol.js';

// tsx turns source maps on to load the TypeScript sources; a deployed server runs built JavaScript without them.
// Left on, every error Node builds on the request path (an aborted request's ECONNRESET, whose stack
// Node reads at once) is mapped through them: several µs per aborted request that no real server pays.
process.setSourceMapsEnabled(false);
const [modeName, filePath] = process.argv.slice(2);
const send = process.send?.bind(process);
const gc = (globalThis as { gc?: () => void }).gc;
if (!isModeName(modeName) || filePath === undefined || send === undefined || gc === undefined) {
  console.error('usage: node --expose-gc serverProcess.ts <mode> <file>, forked with an IPC channel');
  process.exit(2);
}

// Every mode, bare included, runs with Node's listener call sites as an application has them (listenerSites.ts).
warmListenerSites();
const mode = createMode(modeName);
const file: StaticFile = { path: filePath, size: (await stat(filePath)).size };
const FIRST_HALF = Buffer.alloc(BODY_HALF_BYTES, 'a');
const SECOND_HALF = Buffer.alloc(BODY_HALF_BYTES, 'b');
const BODY_HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(2 * BODY_HALF_BYTES) };
const HOLD_CHUNK = Buffer.alloc(HOLD_CHUNK_BYTES, 'h');
const HOLD_HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(2 * HOLD_CHUNK_BYTES) };

const held: ServerResponse[] = [];
let requests = 0;
let opened = 0;
let closes = 0;
/** Socket closes with an error (a peer's reset): the abort scenario's clients should leave with a FIN, never these. */
let closesWithError = 0;
/** Set while an `end` command waits for the window's requests and closes to arrive. */
let check: (() => void) | undefined;

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  mode.onRequest(req, res);
  switch (req.url) {
    case PATHS.hello:
      res.end('hello world');
      break;
    case PATHS.file:
      mode.serveFile(res, file);
      break;
    case PATHS.body:
      res.writeHead(200, BODY_HEADERS);
      res.write(FIRST_HALF);
      res.end(SECOND_HALF);
      break;
    case PATHS.abort:
      // Half the promised body, then nothing: the client leaves mid-body.
      res.writeHead(200, BODY_HEADERS);
      res.write(FIRST_HALF);
      break;
    case PATHS.hold:
      held.push(res);
      break;
    default:
      res.statusCode = 404;
      res.end();
  }
  check?.();
}

function onSocketClose(this: Socket, hadError: boolean): void {
  sockets.delete(this);
  closes++;
  if (hadError) closesWithError++;
  check?.();
}

const server = createServer();
// Keep-alive sockets must outlive the pauses between windows: a server-side idle
// close would be counted as one of the aborting clients' closes.
server.keepAliveTimeout = 120_000;
mode.attach(server);
server.on('request', handle);
const sockets = new Set<Socket>();
server.on('connection', (socket: Socket) => {
  opened++;
  sockets.add(socket);
  socket.once('close', onSocketClose);
});

const cpu = cpuWindow();
let windowStart = { requests: 0, closes: 0, closesWithError: 0 };

/**
 * True once no response is in progress on any open socket (node:http keeps the
 * socket's current response in `_httpMessage` until that response's `finish`)
 * and the mode has released everything: the requests' whole server-side life,
 * `finish` handlers included, is then inside the window. The client can hold a
 * complete response before the server has run `finish`, so counting alone is not enough.
 */
function settled(): boolean {
  if (mode.tracked() !== 0) return false;
  for (const socket of sockets) if ((socket as { _httpMessage?: unknown })._httpMessage) return false;
  return true;
}

function waitFor(requestCount: number, closeCount: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      check = undefined;
      reject(new Error(`window saw ${requests - windowStart.requests}/${requestCount} requests, ${closes - windowStart.closes}/${closeCount} closes, ${mode.tracked()} still tracked`));
    }, timeoutMs);
    // Polled with a 1 ms timer, not setImmediate, so that waiting does not burn the CPU being measured.
    const poll = () => {
      if (!settled()) return void setTimeout(poll, 1);
      clearTimeout(timer);
      // Two more turns: the close handlers' own deferred work (e.g. a setImmediate sweep) belongs in the window.
      setImmediate(() => setImmediate(resolve));
    };
    check = () => {
      if (requests - windowStart.requests < requestCount || closes - windowStart.closes < closeCount) return;
      check = undefined;
      poll();
    };
    check();
  });
}

const commands: { [K in keyof Commands]: (args: Commands[K]['args']) => Promise<Commands[K]['result']> | Commands[K]['result'] } = {
  // No forced GC here: a forced full GC shrinks the young generation and flushes feedback, and the
  // next few thousand requests then cost about twice as much (measured: ~100 vs ~45 µs per request).
  begin() {
    windowStart = { requests, closes, closesWithError };
    cpu.begin();
    return {};
  },
  async end({ requests: requestCount, closes: closeCount }): Promise<WindowResult> {
    await waitFor(requestCount, closeCount, 60_000);
    return {
      ...cpu.read(),
      requests: requests - windowStart.requests,
      closes: closes - windowStart.closes,
      closesWithError: closesWithError - windowStart.closesWithError,
      tracked: mode.tracked(),
    };
  },
  heap() {
    gc();
    gc();
    const { heapUsed, external } = process.memoryUsage();
    return { heapUsed, external };
  },
  stream() {
    for (const res of held) {
      res.writeHead(200, HOLD_HEADERS);
      res.write(HOLD_CHUNK);
    }
    return { streaming: held.length };
  },
  held: () => ({ held: held.length, tracked: mode.tracked(), connections: opened - closes }),
  release() {
    const all = held.splice(0);
    for (const res of all) res.end(res.headersSent ? HOLD_CHUNK : 'released');
    return { released: all.length };
  },
};

process.on('message', (message: Request) => {
  const run = commands[message.cmd] as (args: unknown) => unknown;
  Promise.resolve()
    .then(() => run(message.args))
    .then(
      (result): Reply => ({ id: message.id, ok: true, result }),
      (error: unknown): Reply => ({ id: message.id, ok: false, error: String(error) }),
    )
    .then((reply) => send(reply));
});
// The parent going away (or closing the channel) ends the child: nothing is left behind.
process.on('disconnect', () => process.exit(0));

server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const ready: Ready = { ready: true, port: (server.address() as AddressInfo).port };
  send(ready);
});
