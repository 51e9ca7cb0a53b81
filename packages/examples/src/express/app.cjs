// An ordinary Express 5 app, written the way most are: CommonJS, express.static and morgan.
// Nothing in it knows about Lifeline; started with `--require ./useDropIn.cjs` it runs on the drop-in,
// exactly as it would after a package-manager override of on-finished.
//
// Usage: node app.cjs <directory to serve> [--instrument]. Talks to its parent over IPC:
//   -> { type: 'listening', port, onFinished }     onFinished: the file express's require('on-finished') loads
//   <- { type: 'stats' }  -> { type: 'stats', requests, morganLines, openServedFiles, connections, registry? }
// With --instrument the server is also instrumented, as the README's Express section shows: `registry`
// then reports the registry's stats and how many requests had a connection in the first middleware.
'use strict';
const { readdirSync, readlinkSync } = require('node:fs');
const path = require('node:path');
const express = require('express');
const morgan = require('morgan');

const root = path.resolve(process.argv[2]);
const instrumented = process.argv.includes('--instrument');
let requests = 0;
let morganLines = 0;
let withConnection = 0;
let instrumentation;

const app = express();
app.use((req, res, next) => {
  requests++;
  if (instrumentation?.connectionOf(req) !== undefined) withConnection++;
  next();
});
// A stream that counts lines: morgan writes one per request it logs, from its on-finished callback.
app.use(morgan('tiny', { stream: { write: () => void morganLines++ } }));
app.use(express.static(root));

/** Descriptors of this process that are open on a file under the served directory (send's file streams). */
function openServedFiles() {
  let open = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(root + path.sep)) open++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return open;
}

const server = app.listen(0, '127.0.0.1', () => {
  if (instrumented) instrumentation = require('@lifeline/node-adapter').instrument(server);
  const expressDir = path.dirname(require.resolve('express'));
  process.send({ type: 'listening', port: server.address().port, onFinished: require.resolve('on-finished', { paths: [expressDir] }) });
});

process.on('message', (message) => {
  if (message?.type !== 'stats') return;
  server.getConnections((_error, connections) => {
    const registry = instrumentation && { ...instrumentation.registry.stats(), withConnection };
    process.send({ type: 'stats', requests, morganLines, openServedFiles: openServedFiles(), connections, registry });
  });
});
process.on('disconnect', () => process.exit(0));
