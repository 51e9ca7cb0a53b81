/**
 * The HTTP/2 server child: one cleartext node:http2 server in one tracking
 * mode, answering `hello world` either on the core API (`stream` event) or on
 * the compat API (`request` event), and the same `begin`/`end` window
 * commands as the HTTP/1 child. Usage: h2ServerProcess.ts <mode> <core|compat>.
 */
import { createServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { cpuWindow } from './cpuWindow.js';
import { createH2Mode, isH2ModeName } from './h2Modes.js';
import { warmListenerSites } from './listenerSites.js';
import type { Commands, Ready, WindowResult } from './protocol.js';
import { serveCommands } from './serverControl.js';

// tsx turns source maps on to load the TypeScript sources; a deployed server runs built JavaScript without them.
// Left on, every error Node builds on the request path (an aborted request's ECONNRESET, whose stack
// Node reads at once) is mapped through them: several µs per aborted request that no real server pays.
process.setSourceMapsEnabled(false);
const [modeName, api] = process.argv.slice(2);
if (!isH2ModeName(modeName) || (api !== 'core' && api !== 'compat') || process.send === undefined) {
  console.error('usage: node h2ServerProcess.ts <mode> <core|compat>, forked with an IPC channel');
  process.exit(2);
}

// Every mode, bare included, runs with Node's listener call sites as an application has them (listenerSites.ts).
warmListenerSites();
const mode = createH2Mode(modeName);
const HEADERS = { ':status': 200, 'content-type': 'text/plain' };
let requests = 0;

// No timeouts: an idle session must outlive the pauses between windows.
const server = createServer({ peerMaxConcurrentStreams: 1_000 });
server.setTimeout(0);
mode.attach(server);
if (api === 'core') {
  server.on('stream', (stream: ServerHttp2Stream) => {
    requests++;
    mode.onStream(stream);
    stream.respond(HEADERS);
    stream.end('hello world');
  });
} else {
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    requests++;
    mode.onRequest(req, res);
    res.end('hello world');
  });
}

const cpu = cpuWindow();
let windowStart = 0;

/** Resolves once the window's requests arrived and the mode released them all, plus two turns for deferred close work. */
function settle(requestCount: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    // A 1 ms timer, not setImmediate, so that waiting does not burn the CPU being measured.
    const poll = () => {
      if (requests - windowStart >= requestCount && mode.tracked() === 0) return void setImmediate(() => setImmediate(resolve));
      if (Date.now() > deadline) return reject(new Error(`window saw ${requests - windowStart}/${requestCount} streams, ${mode.tracked()} still tracked`));
      setTimeout(poll, 1);
    };
    poll();
  });
}

const commands: Pick<{ [K in keyof Commands]: (args: Commands[K]['args']) => Promise<Commands[K]['result']> | Commands[K]['result'] }, 'begin' | 'end'> = {
  begin() {
    windowStart = requests;
    cpu.begin();
    return {};
  },
  async end({ requests: requestCount }): Promise<WindowResult> {
    await settle(requestCount, 60_000);
    return { ...cpu.read(), requests: requests - windowStart, closes: 0, closesWithError: 0, tracked: mode.tracked() };
  },
};
serveCommands(commands);

server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const ready: Ready = { ready: true, port: (server.address() as AddressInfo).port };
  process.send!(ready);
});
