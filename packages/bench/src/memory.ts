/**
 * Memory: what tracking costs per in-flight connection, and whether a
 * long-running instrumented server's heap stays flat. Heap is read in the
 * server child after two forced GCs, so only live objects count; the
 * per-connection cost is the mode's heap delta minus bare's from the same
 * round and hold state, divided by the number of held connections. The same
 * held connections are read in both hold states (see `HoldState`): first
 * unanswered, then once every response has sent headers and a first chunk,
 * since a connection can cost more once its response has started (more of
 * Node's objects exist then, and a tracker's additions to them can change
 * their layout).
 */
import type { Socket } from 'node:net';
import type { BenchConfig } from './config.js';
import { measuredWindow } from './cpuPerRequest.js';
import { keepAliveAgent, openHeldRequests } from './loadGenerator.js';
import type { ModeName } from './modes.js';
import type { HoldState } from './protocol.js';
import { startServer, type Pinning, type ServerChild } from './serverControl.js';
import { mulberry32, shuffled } from './stats.js';

export interface InFlightSample {
  readonly round: number;
  readonly mode: ModeName;
  readonly state: HoldState;
  readonly connections: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForNoConnections(child: ServerChild, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while ((await child.call('held')).connections > 0) {
    if (Date.now() > deadline) throw new Error('server connections did not close');
    await sleep(10);
  }
}

async function holdAndRelease(child: ServerChild, count: number): Promise<void> {
  const sockets = await openHeldRequests(child.port, count, async () => (await child.call('held')).held, { batch: 500, deadlineMs: 60_000 });
  await child.call('stream');
  await child.call('release');
  for (const socket of sockets) socket.destroy();
  await waitForNoConnections(child, 30_000);
}

/** One server child per mode and round: the same held connections are read unanswered, then streaming. */
async function inFlightOnce(mode: ModeName, connections: number, round: number, filePath: string, pinning: Pinning): Promise<InFlightSample[]> {
  const child = await startServer(mode, filePath, pinning);
  let sockets: Socket[] = [];
  try {
    // Warm-up: every code path of holding, streaming, answering and closing has run (and allocated its one-off state) before the baseline.
    await holdAndRelease(child, Math.min(500, connections));
    const heapBefore = (await child.call('heap')).heapUsed;
    sockets = await openHeldRequests(child.port, connections, async () => (await child.call('held')).held, { batch: 500, deadlineMs: 120_000 });
    const { tracked } = await child.call('held');
    const expected = mode === 'bare' ? 0 : connections;
    if (tracked !== expected) throw new Error(`${mode}: tracks ${tracked} connections while ${connections} are in flight`);
    const unanswered = (await child.call('heap')).heapUsed;
    const { streaming } = await child.call('stream');
    if (streaming !== connections) throw new Error(`${mode}: ${streaming} of ${connections} held responses started streaming`);
    const streamingHeap = (await child.call('heap')).heapUsed;
    return [
      { round, mode, state: 'unanswered', connections, heapBefore, heapAfter: unanswered },
      { round, mode, state: 'streaming', connections, heapBefore, heapAfter: streamingHeap },
    ];
  } finally {
    for (const socket of sockets) socket.destroy();
    await child.stop();
  }
}

export async function measureInFlight(config: BenchConfig, filePath: string, pinning: Pinning, log: (line: string) => void): Promise<InFlightSample[]> {
  const random = mulberry32(config.seed + 1);
  const samples: InFlightSample[] = [];
  const perConnection = (s: InFlightSample) => `${s.state} +${((s.heapAfter - s.heapBefore) / s.connections).toFixed(0)} B`;
  for (let round = 0; round < config.memory.rounds; round++) {
    for (const mode of shuffled(config.memory.modes, random)) {
      const pair = await inFlightOnce(mode, config.memory.connections, round, filePath, pinning);
      samples.push(...pair);
      log(`memory round ${round + 1}/${config.memory.rounds} ${mode}: ${pair.map(perConnection).join(', ')} per held request`);
    }
  }
  return samples;
}

export interface GrowthResult {
  readonly mode: ModeName;
  readonly requests: number;
  readonly abortedPerCent: number;
  /** heapUsed after gc: after warm-up, then after each checkpoint's share of the requests. */
  readonly heapAfterWarmup: number;
  readonly checkpoints: readonly { readonly requests: number; readonly heapUsed: number }[];
  readonly growthBytes: number;
}

/** A lifeline-instrumented server (default journal) under a long abort10 load: its heap must come back to where it started. */
export async function measureGrowth(
  config: BenchConfig,
  filePath: string,
  pinning: Pinning,
  log: (line: string) => void,
  mode: ModeName = 'lifeline-instrument-journal8',
): Promise<GrowthResult> {
  const scenario = config.scenarios.abort10;
  const { warmup, requests, checkpoints: parts } = config.growth;
  const child = await startServer(mode, filePath, pinning);
  const agent = keepAliveAgent(config.concurrency);
  const warnings: string[] = [];
  try {
    await measuredWindow(child, agent, scenario, warmup, config.concurrency, warnings, 'growth warm-up');
    const heapAfterWarmup = (await child.call('heap')).heapUsed;
    const checkpoints: { requests: number; heapUsed: number }[] = [];
    let sent = 0;
    for (let part = 0; part < parts; part++) {
      const count = Math.round((requests * (part + 1)) / parts) - sent;
      // measuredWindow checks that the server saw every request and that nothing is still tracked.
      await measuredWindow(child, agent, scenario, count, config.concurrency, warnings, `growth part ${part + 1}`);
      sent += count;
      checkpoints.push({ requests: sent, heapUsed: (await child.call('heap')).heapUsed });
      log(`growth ${mode} ${sent}/${requests} requests: heap ${(checkpoints.at(-1)!.heapUsed / 1024).toFixed(0)} KiB (after warm-up ${(heapAfterWarmup / 1024).toFixed(0)} KiB)`);
    }
    for (const warning of warnings) log(`warning: ${warning}`);
    return {
      mode,
      requests,
      abortedPerCent: 100 / scenario.abortEvery,
      heapAfterWarmup,
      checkpoints,
      growthBytes: checkpoints.at(-1)!.heapUsed - heapAfterWarmup,
    };
  } finally {
    agent.destroy();
    await child.stop();
  }
}
