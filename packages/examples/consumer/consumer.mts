// Type-checked by test/tarballs.test.ts against the installed tarballs: an ES module consumer.
import http from 'node:http';
import { createRegistry, LifelineError, type ConnectionOutcome } from '@lifeline/core';
import { drain, instrument, type Instrumentation } from '@lifeline/node-adapter';
import { checkNoLeaks } from '@lifeline/node-adapter/testing';

const server = http.createServer();
const instrumentation: Instrumentation<{ url: string | undefined }> = instrument(server, {
  registry: createRegistry<{ url: string | undefined }>(),
  meta: (req) => ({ url: req.url }),
});
instrumentation.registry.onRelease((c) => {
  const outcome: ConnectionOutcome = c.outcome;
  const url: string | undefined = c.meta?.url;
  console.log(outcome, url);
});
export const shutdown = (): Promise<unknown> => drain(instrumentation.registry, { server, deadline: 1_000 });
export const isLifelineError = (error: unknown): boolean => error instanceof LifelineError;
export const check: typeof checkNoLeaks = checkNoLeaks;
