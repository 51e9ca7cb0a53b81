import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  pathFor,
  predictedEndings,
  rawRequest,
  runKeepAlive,
  runRawClient,
  scenarioArbitrary,
  startScenarioServer,
  type Arrivals,
  type Scenario,
  type ServerBehaviour,
} from './helpers/scenarios.js';
import { queuedDeathReasons } from './helpers/nodePaths.js';
import { waitFor } from './helpers/server.js';
import { newDescriptors, openFileDescriptors } from '../src/testing/index.js';

const RUNS = Number(process.env.LIFELINE_SOCKET_RUNS ?? 50);
const SEED = process.env.LIFELINE_FC_SEED === undefined ? 20261126 : Number(process.env.LIFELINE_FC_SEED);

/** Plays every scenario at once against one instrumented server; returns tag → the endings it may have. */
async function play(port: number, scenarios: Scenario[], arrivals: Arrivals): Promise<Map<string, readonly string[]>> {
  const expected = new Map<string, readonly string[]>();
  const arrivedPromise = (tag: string) => new Promise<void>((resolve) => arrivals.set(tag, resolve));
  await Promise.all(
    scenarios.map(async (scenario, i) => {
      if (scenario.kind === 'single') {
        const tag = `s${i}`;
        expected.set(tag, predictedEndings(scenario.server, scenario.client));
        await runRawClient(port, rawRequest(pathFor(tag, scenario.server), true), scenario.client, arrivedPromise(tag));
      } else if (scenario.kind === 'keep-alive') {
        const paths = scenario.servers.map((server, k) => {
          expected.set(`k${i}_${k}`, ['finished']);
          return pathFor(`k${i}_${k}`, server);
        });
        await runKeepAlive(port, paths);
      } else {
        // Pipelined: the first request hangs when the socket is to die, so the rest stay queued behind it,
        // serving a file each (what leaked descriptors on Node 20 and 22 when the socket died).
        const tags = Array.from({ length: scenario.count }, (_, k) => `p${i}_${k}`);
        const queued: ServerBehaviour = scenario.dies ? { kind: 'file' } : { kind: 'end' };
        const payload = tags
          .map((tag, k) => rawRequest(pathFor(tag, k === 0 && scenario.dies ? { kind: 'hang' } : queued), k === tags.length - 1))
          .join('');
        // The head of the queue sees its client leave (aborted); the queued ones end as the socket's
        // death reaches them, by a path that depends on the Node version (see helpers/nodePaths.ts).
        tags.forEach((tag, k) =>
          expected.set(tag, !scenario.dies ? ['finished'] : k === 0 ? ['closed (aborted)'] : queuedDeathReasons.map((reason) => `closed (${reason})`)),
        );
        const lastArrived = arrivedPromise(tags[0]!);
        await runRawClient(port, payload, scenario.dies ? { kind: 'abort-before-headers' } : { kind: 'read-all' }, lastArrived);
      }
    }),
  );
  return expected;
}

describe('over real sockets, the registry returns to zero, each ending (outcome and reason) is a predicted one, and no file opened for a request stays open', () => {
  it(`holds for generated client × server behaviours (${RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(scenarioArbitrary, { minLength: 1, maxLength: 6 }), async (scenarios) => {
        const server = await startScenarioServer();
        const filesBefore = openFileDescriptors();
        try {
          const expected = await play(server.port, scenarios, server.arrivals);
          // Every client socket has closed; the registry must empty by itself.
          await waitFor(() => server.registry.size === 0, `registry to empty (left: ${JSON.stringify(server.registry.list())})`, 3_000);
          // And every file the server opened for a request (sendFile's) is closed again.
          await waitFor(() => newDescriptors(filesBefore, openFileDescriptors()).length === 0, 'files opened for requests to be closed', 3_000);
          const actual = new Map([...server.endings].map(([tag, endings]) => [tag, endings.join('+')]));
          // Exactly once each, with a predicted outcome and reason, and nothing released that was not requested.
          expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
          const unpredicted = [...expected].filter(([tag, allowed]) => !allowed.includes(actual.get(tag)!));
          expect(unpredicted.map(([tag, allowed]) => ({ tag, released: actual.get(tag), allowed }))).toEqual([]);
        } finally {
          await server.close();
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 300_000);
});
