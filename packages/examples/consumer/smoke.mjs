// Run by test/tarballs.test.ts inside a fresh npm project that installed the packed tarballs:
// the published ESM entry points, imported as a user's ES module imports them.
import http from 'node:http';
import { createRegistry } from '@lifeline/core';
import { instrument } from '@lifeline/node-adapter';
import { checkNoLeaks } from '@lifeline/node-adapter/testing';

const server = http.createServer((req, res) => res.end('hello'));
const { registry } = instrument(server, { registry: createRegistry() });
const outcomes = [];
const released = new Promise((resolve) => registry.onRelease((c) => resolve(outcomes.push(c.outcome))));

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const body = await new Promise((resolve, reject) => {
  http
    .get({ host: '127.0.0.1', port: server.address().port, path: '/', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => resolve(text));
    })
    .on('error', reject);
});
await released;
await new Promise((resolve) => server.close(resolve));

console.log(JSON.stringify({ body, outcomes, inFlight: registry.size, testing: typeof checkNoLeaks }));
