/**
 * Server CPU time per request. Each round starts a fresh server child per
 * mode and runs every mode in a shuffled order, in slices that alternate
 * between the modes; the mode's sample is then paired with bare's from the
 * same round, so drift of the (shared, virtual) machine hits both sides of
 * every pair alike. Inside a child the window is exact: the server snapshots
 * `process.cpuUsage()` on `begin`, the parent sends exactly N requests, and
 * `end` waits until the server has seen all N (and every aborting client's
 * close) and finished every response before taking the delta.
 */
import type { Agent } from 'node:http';
import type { BenchConfig, ScenarioConfig, ScenarioName } from './config.js';
import { SCENARIO_NAMES } from './config.js';
import { keepAliveAgent, runLoad } from './loadGenerator.js';
import type { ModeName } from './modes.js';
import { startServer, type Pinning, type ServerChild } from './serverControl.js';
import { mulberry32, shuffled } from './stats.js';

export interface CpuSample {
  readonly round: number;
  readonly mode: ModeName;
  readonly scenario: ScenarioName;
  readonly cpuUsPerRequest: number;
  readonly requests: number;
  readonly aborted: number;
  /** Wall time of the load in the window: throughput is limited by the client, so this is only indicative. */
  readonly loadMs: number;
}

export interface Window {
  readonly cpuUs: number;
  readonly requests: number;
  readonly aborted: number;
  readonly loadMs: number;
}

/** One begin → N requests → end window, with the checks every window must pass. */
export async function measuredWindow(
  child: ServerChild,
  agent: Agent,
  scenario: ScenarioConfig,
  count: number,
  concurrency: number,
  warnings: string[],
  label: string,
): Promise<Window> {
  await child.call('begin');
  const load = await runLoad({
    port: child.port,
    path: scenario.path,
    count,
    concurrency,
    agent,
    abortEvery: scenario.abortEvery,
    deadlineMs: 30_000 + count * 5,
  });
  if (load.failed > 0) throw new Error(`${label}: ${load.failed} of ${count} requests failed (first: ${load.firstError})`);
  const result = await child.call('end', { requests: count, closes: load.aborted });
  if (result.requests !== count) throw new Error(`${label}: the server saw ${result.requests} requests in a window of ${count}`);
  if (result.tracked !== 0) throw new Error(`${label}: ${result.tracked} connections still tracked after every request ended`);
  if (result.closes !== load.aborted) warnings.push(`${label}: ${result.closes} socket closes for ${load.aborted} aborting clients`);
  return { cpuUs: result.userUs + result.systemUs, requests: result.requests, aborted: load.aborted, loadMs: load.ms };
}

/** Starts one server child per mode, all at once; each gets its own keep-alive agent. */
async function startRound(modes: readonly ModeName[], filePath: string, pinning: Pinning, concurrency: number) {
  const children = await Promise.allSettled(modes.map((mode) => startServer(mode, filePath, pinning)));
  const started = children.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
  const failed = children.find((c) => c.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.map((c) => c.stop()));
    throw failed.reason;
  }
  return new Map(modes.map((mode, i) => [mode, { child: started[i]!, agent: keepAliveAgent(concurrency) }]));
}

export async function measureCpu(
  config: BenchConfig,
  filePath: string,
  pinning: Pinning,
  log: (line: string) => void,
): Promise<{ samples: CpuSample[]; warnings: string[] }> {
  const random = mulberry32(config.seed);
  const samples: CpuSample[] = [];
  const warnings: string[] = [];
  for (let round = 0; round < config.rounds; round++) {
    const started = performance.now();
    // A fresh child per (round, mode), all alive for the whole round (idle ones cost nothing), so
    // that the modes' windows can alternate closely and a burst of outside load hits them alike.
    const servers = await startRound(config.modes, filePath, pinning, config.concurrency);
    try {
      for (const scenario of SCENARIO_NAMES) {
        const sc = config.scenarios[scenario];
        const label = (mode: ModeName) => `round ${round + 1} ${mode} ${scenario}`;
        // The warm-up is a window of its own so that its aborting clients' closes are all in before a measured one begins.
        for (const mode of shuffled(config.modes, random)) {
          const { child, agent } = servers.get(mode)!;
          await measuredWindow(child, agent, sc, sc.warmup, config.concurrency, warnings, `${label(mode)} warm-up`);
        }
        // The round's N requests per mode are sent in slices; each slice visits every mode once, in a new random order.
        const totals = new Map(config.modes.map((mode) => [mode, { cpuUs: 0, requests: 0, aborted: 0, loadMs: 0 }]));
        for (let slice = 0; slice < config.slices; slice++) {
          const count = Math.round((sc.requests * (slice + 1)) / config.slices) - Math.round((sc.requests * slice) / config.slices);
          for (const mode of shuffled(config.modes, random)) {
            const { child, agent } = servers.get(mode)!;
            const w = await measuredWindow(child, agent, sc, count, config.concurrency, warnings, label(mode));
            const t = totals.get(mode)!;
            t.cpuUs += w.cpuUs;
            t.requests += w.requests;
            t.aborted += w.aborted;
            t.loadMs += w.loadMs;
          }
        }
        for (const [mode, t] of totals) {
          samples.push({ round, mode, scenario, cpuUsPerRequest: t.cpuUs / t.requests, requests: t.requests, aborted: t.aborted, loadMs: t.loadMs });
        }
      }
    } finally {
      for (const { agent } of servers.values()) agent.destroy();
      await Promise.all([...servers.values()].map(({ child }) => child.stop()));
    }
    const hello = (m: ModeName) => samples.find((s) => s.round === round && s.mode === m && s.scenario === 'hello')!.cpuUsPerRequest.toFixed(1);
    log(`cpu round ${round + 1}/${config.rounds} in ${((performance.now() - started) / 1000).toFixed(0)} s — hello µs/req: ${config.modes.map((m) => `${m} ${hello(m)}`).join(', ')}`);
  }
  return { samples, warnings };
}
