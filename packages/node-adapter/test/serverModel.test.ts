import fc from 'fast-check';
import { describe, it } from 'vitest';
import { startScenarioServer, type ClientBehaviour, type ServerBehaviour } from './helpers/scenarios.js';
import type { ServerModel, ServerReal } from './model-based/model.js';
import { PipelinedCommand } from './model-based/PipelinedCommand.js';
import { RequestCommand } from './model-based/RequestCommand.js';

const RUNS = Number(process.env.LIFELINE_SOCKET_RUNS ?? 50) / 5;
const SEED = process.env.LIFELINE_FC_SEED === undefined ? 1126 : Number(process.env.LIFELINE_FC_SEED);

const answering = fc.constantFrom<ServerBehaviour>({ kind: 'end' }, { kind: 'stream' }, { kind: 'file' });
const commands = [
  answering.map((s) => new RequestCommand(s, { kind: 'read-all' })),
  fc
    .tuple(
      fc.constantFrom<ServerBehaviour>({ kind: 'stream' }, { kind: 'file' }),
      fc.oneof(
        fc.integer({ min: 1, max: 200_000 }).map<ClientBehaviour>((bytes) => ({ kind: 'abort-at', bytes })),
        fc.integer({ min: 1, max: 200_000 }).map<ClientBehaviour>((bytes) => ({ kind: 'reset-at', bytes })),
      ),
    )
    .map(([s, c]) => new RequestCommand(s, c)),
  fc
    .oneof(
      fc.integer({ min: 0, max: 300_000 }).map<ServerBehaviour>((bytes) => ({ kind: 'errorAt', bytes })),
      fc.constantFrom<ServerBehaviour>({ kind: 'throw' }, { kind: 'destroy' }),
    )
    .map((s) => new RequestCommand(s, { kind: 'read-all' })),
  fc.constant(new RequestCommand({ kind: 'hang' }, { kind: 'abort-before-headers' })),
  fc.tuple(fc.integer({ min: 2, max: 4 }), fc.boolean()).map(([n, dies]) => new PipelinedCommand(n, dies)),
];

describe('model-based over real sockets: the server against the core machine as model', () => {
  it(`one server, a sequence of client/server behaviours: every release has the machine's outcome and the reason the behaviour specifies, counts agree (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 12 }), async (cmds) => {
        const server = await startScenarioServer();
        try {
          const real: ServerReal = { ...server, next: 0 };
          const model: ServerModel = { released: { finished: 0, closed: 0, errored: 0 }, requests: 0 };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await server.close();
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 300_000);
});
