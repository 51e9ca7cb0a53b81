/**
 * The load child: drives the server children's traffic from its own
 * process, pinned to the core the servers do not use, so that nothing of
 * the load's cost lands in a server's `process.cpuUsage()`. Commands:
 * `http1` (raw keep-alive driver, rawLoad.ts), `http2` (node:http2 client
 * sessions, h2Load.ts), `forget` (close a port's connections).
 */
import { forget, runRawLoad } from './rawLoad.js';
import { forgetH2, runH2Load } from './h2Load.js';
import { serveCommands } from './serverControl.js';
import type { LoadCommands } from './loadProtocol.js';
import type { Ready } from './protocol.js';

const handlers: { [K in keyof LoadCommands]: (args: LoadCommands[K]['args']) => Promise<LoadCommands[K]['result']> | LoadCommands[K]['result'] } = {
  http1: (args) => runRawLoad(args),
  http2: (args) => runH2Load(args),
  forget({ port }) {
    forget(port);
    forgetH2(port);
    return {};
  },
};
serveCommands(handlers);
const ready: Ready = { ready: true, port: 0 };
process.send!(ready);
