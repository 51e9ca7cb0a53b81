// Run by test/tarballs.test.ts inside a fresh npm project that installed the packed tarballs:
// the same ESM-only packages loaded with require(), which Node >= 20.19 supports.
const http = require('node:http');
const { createRegistry } = require('@lifeline/core');
const { instrument } = require('@lifeline/node-adapter');

const server = http.createServer((req, res) => res.end('hello'));
const { registry } = instrument(server, { registry: createRegistry() });
const outcomes = [];
let body = '';
let pending = 2; // the client read the whole body, and the registry released the connection
const done = () => {
  if (--pending === 0) server.close(() => console.log(JSON.stringify({ body, outcomes, inFlight: registry.size })));
};
registry.onRelease((c) => {
  outcomes.push(c.outcome);
  done();
});

server.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/', agent: false }, (res) => {
    res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', done);
  });
});
