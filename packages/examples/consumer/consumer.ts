// Type-checked by test/tarballs.test.ts against the installed tarballs with moduleResolution bundler.
import http from 'node:http';
import { createRegistry, type ConnectionOutcome } from '@lifeline/core';
import { instrument } from '@lifeline/node-adapter';

const { registry } = instrument(http.createServer(), { registry: createRegistry() });
registry.onRelease((c) => {
  const outcome: ConnectionOutcome = c.outcome;
  console.log(outcome);
});
