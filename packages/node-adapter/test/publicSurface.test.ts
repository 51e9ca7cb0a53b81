// The public surface is what each entry of the exports map exports at runtime. Growing it is a decision:
// a name added to an entry fails here until it is added to the list below on purpose.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const surface: Record<string, readonly string[]> = {
  '@lifeline/node-adapter': [
    'AlreadyInstrumentedError',
    'ConnectionClosedError',
    'ConnectionErroredError',
    'PathRefusedError',
    'connectionOf',
    'drain',
    'instrument',
    'pipeResponse',
    'sendFile',
    'startWatchdog',
    'subscribeOpen',
    'subscribeRelease',
    'track',
    'trackSocket',
    'trackStream',
    'wrapHandler',
  ],
  '@lifeline/node-adapter/testing': ['EndingNotExercisedError', 'LeakError', 'MissingPeerDependencyError', 'checkNoLeaks', 'descriptorsOpenOn', 'newDescriptors', 'openFileDescriptors', 'rawRequest', 'runKeepAlive', 'runRawClient'],
  '@lifeline/node-adapter/otel': ['DURATION_BUCKETS', 'createHttpServerMetricProducer', 'recordHttpServerMetrics'],
  '@lifeline/node-adapter/prometheus': ['DURATION_BUCKETS', 'collectPrometheusMetrics', 'metricNames'],
};

const entries: Record<string, () => Promise<object>> = {
  '@lifeline/node-adapter': () => import('@lifeline/node-adapter'),
  '@lifeline/node-adapter/testing': () => import('@lifeline/node-adapter/testing'),
  '@lifeline/node-adapter/otel': () => import('@lifeline/node-adapter/otel'),
  '@lifeline/node-adapter/prometheus': () => import('@lifeline/node-adapter/prometheus'),
};

describe('the public surface of @lifeline/node-adapter is exactly the allowed one', () => {
  it('the exports map declares exactly the entries listed here', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).map((key) => (key === '.' ? '@lifeline/node-adapter' : `@lifeline/node-adapter/${key.slice(2)}`))).toEqual(
      Object.keys(surface),
    );
  });

  for (const [entry, names] of Object.entries(surface)) {
    it(`${entry} exports exactly its allowed names`, async () => {
      expect(Object.keys(await entries[entry]!()).sort()).toEqual([...names].sort());
    });
  }
});
