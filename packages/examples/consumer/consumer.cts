// Type-checked by test/tarballs.test.ts against the installed tarballs: a CommonJS consumer
// (compiled to require(), which TypeScript >= 5.8 allows for ES modules under module nodenext).
import http = require('node:http');
import { createRegistry, type ConnectionOutcome } from '@lifeline/core';
import { instrument } from '@lifeline/node-adapter';

const { registry } = instrument(http.createServer(), { registry: createRegistry() });
registry.onRelease((c) => {
  const outcome: ConnectionOutcome = c.outcome;
  console.log(outcome);
});
export = registry;
