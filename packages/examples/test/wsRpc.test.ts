import fc from 'fast-check';
import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { ConnectionEndedError, type ReleasedConnection } from '@lifeline/core';
import { connectRpcClient, RpcError } from '../src/wsRpc/rpcClient.js';
import {
  expectedCallEnding,
  expectedSocketEnding,
  runRpcScenario,
  scenarioHandlers,
  type CallKind,
  type ClientEnding,
  type ClientPlan,
} from '../src/wsRpc/rpcScenario.js';
import { startRpcServer, type RpcMeta } from '../src/wsRpc/rpcServer.js';

const callPlan = fc.record({
  kind: fc.constantFrom<CallKind>('answers', 'throws', 'streams-forever'),
  steps: fc.nat({ max: 3 }),
});
const clientPlan: fc.Arbitrary<ClientPlan> = fc.record({
  calls: fc.array(callPlan, { maxLength: 3 }),
  ending: fc.constantFrom<ClientEnding>('closes-cleanly', 'terminates', 'stays-until-shutdown'),
});

describe('WebSocket RPC server on the core registry', () => {
  it('ends each call and socket with the outcome and reason its transport fact maps to', async () => {
    const report = await runRpcScenario([
      { calls: [{ kind: 'answers', steps: 2 }, { kind: 'throws', steps: 1 }, { kind: 'streams-forever', steps: 0 }], ending: 'closes-cleanly' },
      { calls: [{ kind: 'answers', steps: 0 }, { kind: 'streams-forever', steps: 0 }], ending: 'terminates' },
      { calls: [{ kind: 'streams-forever', steps: 0 }, { kind: 'throws', steps: 0 }], ending: 'stays-until-shutdown' },
    ]);
    expect(report.calls.map((c) => [c.call, c.released, c.releases])).toEqual([
      ['c0.1', { outcome: 'finished', reason: 'none' }, 1],
      ['c0.2', { outcome: 'errored', reason: 'handler-error' }, 1],
      ['c0.3', { outcome: 'closed', reason: 'session-closed' }, 1], // ended by its socket's group
      ['c1.1', { outcome: 'finished', reason: 'none' }, 1],
      ['c1.2', { outcome: 'closed', reason: 'session-closed' }, 1], // ended by its socket's group
      ['c2.1', { outcome: 'errored', reason: 'shutdown' }, 1],
      ['c2.2', { outcome: 'errored', reason: 'handler-error' }, 1],
    ]);
    expect(report.sockets.map((s) => s.released)).toEqual([
      { outcome: 'finished', reason: 'none', closeCode: 1000 }, // the client's close frame
      { outcome: 'closed', reason: 'aborted', closeCode: 1006 }, // no close frame
      { outcome: 'errored', reason: 'shutdown' },
    ]);
    expect(report.registrySize).toBe(0);
  });

  it('after any mix of clients that close cleanly or terminate mid-stream, handlers that throw and a shutdown mid-call, the registry is empty and every call and socket was released once with the outcome and reason its client implies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(clientPlan, { minLength: 1, maxLength: 3 }), async (plans) => {
        const report = await runRpcScenario(plans);
        expect(report.registrySize).toBe(0);
        expect(report.lateEvents).toBe(0);
        expect(report.calls.map((c) => ({ call: c.call, releases: c.releases, ...c.released }))).toEqual(
          report.calls.map((c) => ({ call: c.call, releases: 1, ...expectedCallEnding(c.kind, c.ending) })),
        );
        expect(report.sockets.map((s) => ({ client: s.client, releases: s.releases, ...s.released }))).toEqual(
          report.sockets.map((s) => ({ client: s.client, releases: 1, ...expectedSocketEnding(s.ending) })),
        );
      }),
      { numRuns: 12 },
    );
  }, 30_000);

  it("aborts a handler's signal with the call's ending when its socket goes before the handler answers", async () => {
    const reasons: unknown[] = [];
    const server = await startRpcServer({
      handlers: {
        wait: (_params, { signal, progress }) => {
          progress('started');
          return new Promise((_resolve, reject) => signal.addEventListener('abort', () => (reasons.push(signal.reason), reject(signal.reason))));
        },
      },
    });
    const callReleased = new Promise((resolve) => server.registry.onRelease((c) => c.meta?.kind === 'call' && resolve(c.event)));
    const client = await connectRpcClient(server.url);
    await client.call('wait').firstProgress;
    await client.terminate();
    const ending = await callReleased; // the server has seen the socket go
    await server.close();
    expect(ending).toEqual({ type: 'CLOSE', reason: 'session-closed' });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(ConnectionEndedError);
    expect(reasons[0]).toMatchObject({ name: 'AbortError', outcome: 'closed', event: ending });
  });

  it('ends a socket whose client breaks the protocol as errored (protocol-error), and its calls with it', async () => {
    const server = await startRpcServer({ handlers: scenarioHandlers });
    const released: ReleasedConnection<RpcMeta>[] = [];
    server.registry.onRelease((c) => released.push(c));
    const raw = new WebSocket(server.url);
    await new Promise((resolve) => raw.once('open', resolve));
    const progressed = new Promise((resolve) => raw.once('message', resolve));
    raw.send(JSON.stringify({ id: 1, method: 'streams-forever' }));
    await progressed;
    raw.on('error', () => {}); // the server answers with close code 1002
    const closed = new Promise((resolve) => raw.once('close', resolve));
    // A masked frame with the reserved opcode 3: no WebSocket library sends one, so write it under ws.
    (raw as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
    await closed;
    await server.close();
    expect(released.map((c) => [c.meta?.kind, c.outcome, 'reason' in c.event && c.event.reason]).sort()).toEqual([
      ['call', 'closed', 'session-closed'],
      ['socket', 'errored', 'protocol-error'],
    ]);
    expect(server.registry.size).toBe(0);
  });

  it('answers a malformed request or an unknown method with an error and opens no connection for it', async () => {
    const server = await startRpcServer({ handlers: scenarioHandlers });
    const opened: ReleasedConnection<RpcMeta>[] = [];
    server.registry.onRelease((c) => opened.push(c));
    const raw = new WebSocket(server.url);
    const answers: unknown[] = [];
    raw.on('message', (data) => answers.push(JSON.parse(data.toString())));
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send('not json');
    raw.send(JSON.stringify({ method: 'answers' }));
    const client = await connectRpcClient(server.url);
    const unknown = await client.call('no-such-method').result.catch((error: unknown) => error);
    await client.close();
    raw.close();
    await new Promise((resolve) => raw.once('close', resolve));
    await server.close();
    expect(answers).toEqual([
      { id: null, error: { message: 'the message is not JSON' } },
      { id: null, error: { message: 'a request needs an id (a string or a number)' } },
    ]);
    expect(unknown).toBeInstanceOf(RpcError);
    expect((unknown as Error).message).toBe('no method "no-such-method"');
    expect(opened.map((c) => c.meta?.kind)).toEqual(['socket', 'socket']);
    expect(server.registry.stats().opened).toBe(2);
  });
});
