/**
 * Server CPU time per request. Each round starts a fresh server child per
 * mode; once every child is warmed up, the round's N requests per mode are
 * sent in windows, one server loaded at a time (alone on core 1, the load
 * child on core 0), visiting every mode once per slice in a new random order.
 * A mode's Δ for the round is the median over the slices of its window minus
 * the same slice's bare window (summary.ts): a slow stretch of the machine
 * hits both windows of a pair, and a burst from outside the VM lands in one
 * slice, which the median drops. What is left is mostly the spread between
 * fresh processes (code layout, JIT timing), which rounds average out.
 * Inside a child the window is exact: the server snapshots
 * `process.cpuUsage()` on `begin`, the load child (its own process, on the
 * other core) sends exactly N requests, and `end` waits until the server has
 * seen all N (and every aborting client's close) and finished every response
 * before taking the delta. Before the measured slices each server is warmed
 * up past the JIT's tiers (hello: 20,000 requests, by which its cost has
 * settled; the other scenarios until a window costs within 3% of the one
 * before), so a slow first slice does not land in one mode's sample only.
 */
import type { Agent } from 'node:http';
import type { BundledChildren } from './bundle.js';
import type { BenchConfig, ScenarioConfig, ScenarioName } from './config.js';
import { runLoad } from './loadGenerator.js';
import type { LoadCommands } from './loadProtocol.js';
import type { ModeName } from './modes.js';
import { BODY_HALF_BYTES, PATHS } from './protocol.js';
import { forkChild, startH2Server, startServer, type Child, type Pinning, type ServerChild } from './serverControl.js';
import { median, mulberry32, shuffled } from './stats.js';

export interface CpuSample {
  readonly round: number;
  readonly mode: ModeName;
  readonly scenario: ScenarioName;
  /** The median over this child's measured windows of its CPU (user + system) per request, µs. */
  readonly cpuUsPerRequest: number;
  /** The whole round's CPU over its requests, µs: the mean the median stands for (a burst from outside included). */
  readonly meanUsPerRequest: number;
  /** Each measured window's CPU per request, µs, one per slice in slice order (absent in older results). */
  readonly windowUsPerRequest?: readonly number[];
  readonly requests: number;
  readonly aborted: number;
  /** Server sockets that closed with an error (a reset) in the window. */
  readonly closesWithError: number;
  /** Wall time of the load in the window. */
  readonly loadMs: number;
  /** Kernel time per request, µs (part of cpuUsPerRequest): syscalls and the loopback TCP work done on the server's behalf. */
  readonly systemUsPerRequest: number;
  /**
   * The main thread's own CPU per request (user + system), µs: cpuUsPerRequest without the JIT compiler and GC
   * helper threads. Undefined on Node 20 (no `process.threadCpuUsage`).
   */
  readonly mainUsPerRequest?: number;
  /** Of that, user-space time: the JavaScript and native code a tracker adds to (it makes no syscall per request). */
  readonly mainUserUsPerRequest?: number;
  /** Main-thread GC pauses per request, µs (part of cpuUsPerRequest). */
  readonly gcUsPerRequest: number;
  /** Collections per 1,000 requests: unlike the pauses' wall time, not inflated when other processes take the core. */
  readonly gcPer1k: number;
  /** The load child's CPU per request, µs: shows whether the load (not the server) set the pace. */
  readonly loadCpuUsPerRequest: number;
  /** The node that ran the server. */
  readonly node: string;
}

export interface Window {
  readonly cpuUs: number;
  readonly systemUs?: number;
  readonly mainUserUs?: number;
  readonly mainSystemUs?: number;
  readonly gcCount?: number;
  readonly closesWithError?: number;
  readonly loadCpuUs?: number;
  readonly gcUs: number;
  readonly requests: number;
  readonly aborted: number;
  readonly loadMs: number;
}

export type LoadChild = Child<LoadCommands>;

/**
 * Every server child of this section runs with a young generation of one fixed size (16 MiB semi-spaces). Left to
 * V8, fresh processes of the same server settled at one of two sizes, process by process: the same bare hello server
 * ran about 0.7 or about 2.6 scavenges per 1,000 requests (Node 24, full run of 2026-11-27), a step of about 1.5 µs
 * per request between two processes that had nothing else different, which only more rounds could average out.
 * With the size fixed, every process collects alike (about 0.3–0.4 per 1,000 requests on hello).
 */
export const YOUNG_GENERATION_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

const LOAD_SCRIPT = new URL('./loadProcess.ts', import.meta.url);

/** The load child, on core 0 (the servers run on core 1). */
export function startLoad(pinning: Pinning): Promise<LoadChild> {
  return forkChild<LoadCommands>(LOAD_SCRIPT.pathname, [], pinning, { name: 'load', core: 0 });
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
  return { cpuUs: result.userUs + result.systemUs, gcUs: result.gcUs, requests: result.requests, aborted: load.aborted, loadMs: load.ms };
}

/** How the load child drives one server: raw HTTP/1.1 connections, or HTTP/2 sessions × streams. */
export interface LoadShape {
  readonly connections: number;
  readonly pipeline: number;
  /** HTTP/2 only: streams in flight per session (then `connections` counts sessions). */
  readonly streams: number;
  /** HTTP/2 only: refill a session once all its streams ended (see `H2LoadOptions.wholeBatches`). */
  readonly wholeBatches?: boolean;
}

/** One begin → N requests (sent by the load child) → end window; the load gives up after `deadlineMs`. */
export async function loadWindow(
  child: ServerChild,
  load: LoadChild,
  scenario: ScenarioConfig,
  shape: LoadShape,
  count: number,
  warnings: string[],
  label: string,
  deadlineMs = 30_000 + count * 2,
): Promise<Window> {
  await child.call('begin');
  const result = scenario.http2
    ? await load.call('http2', { port: child.port, path: scenario.path, count, sessions: shape.connections, streams: shape.streams, wholeBatches: shape.wholeBatches, deadlineMs })
    : await load.call('http1', {
        port: child.port,
        path: scenario.path,
        count,
        connections: shape.connections,
        pipeline: shape.pipeline,
        abortEvery: scenario.abortEvery,
        abortPath: PATHS.abort,
        abortAfterBodyBytes: BODY_HALF_BYTES,
        deadlineMs,
      });
  if (result.failed > 0) throw new Error(`${label}: ${result.failed} of ${count} requests failed (first: ${result.firstError})`);
  const end = await child.call('end', { requests: count, closes: result.aborted });
  if (end.requests !== count) throw new Error(`${label}: the server saw ${end.requests} requests in a window of ${count}`);
  if (end.tracked !== 0) throw new Error(`${label}: ${end.tracked} connections still tracked after every request ended`);
  if (end.closes !== result.aborted) warnings.push(`${label}: ${end.closes} socket closes for ${result.aborted} aborting clients`);
  return {
    cpuUs: end.userUs + end.systemUs,
    systemUs: end.systemUs,
    mainUserUs: end.mainUserUs,
    mainSystemUs: end.mainSystemUs,
    gcCount: end.gcCount, closesWithError: end.closesWithError, loadCpuUs: result.loadCpuUs, gcUs: end.gcUs, requests: end.requests, aborted: result.aborted, loadMs: result.ms };
}

/**
 * Warm-up windows of `chunk` requests until one costs within `tolerance` of
 * the one before (or `maxChunks` ran): returns how many requests it took.
 */
async function warmUp(child: ServerChild, load: LoadChild, scenario: ScenarioConfig, shape: LoadShape, warnings: string[], label: string): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  let sent = 0;
  for (let k = 0; k < scenario.warmupMaxChunks; k++) {
    const w = await loadWindow(child, load, scenario, shape, scenario.warmup, warnings, `${label} warm-up`);
    sent += w.requests;
    const perRequest = w.cpuUs / w.requests;
    if (k > 0 && Math.abs(perRequest - previous) <= WARMUP_TOLERANCE * previous) break;
    previous = perRequest;
  }
  return sent;
}
const WARMUP_TOLERANCE = 0.03;

type ServerKind = 'http1' | 'core' | 'compat';
const kindOf = (sc: ScenarioConfig): ServerKind => sc.http2 ?? 'http1';

/**
 * Starts one server child of `kind` per mode, all at once, forked in a shuffled order: no mode is
 * always the first or the last process started (bare would otherwise always be first).
 */
async function startRound(
  kind: ServerKind,
  modesInOrder: readonly ModeName[],
  filePath: string,
  pinning: Pinning,
  node: string | undefined,
  random: () => number,
  bundled: BundledChildren | undefined,
): Promise<Map<ModeName, ServerChild>> {
  const modes = shuffled(modesInOrder, random);
  const start = (mode: ModeName) =>
    kind === 'http1'
      ? startServer(mode, filePath, pinning, node, YOUNG_GENERATION_FLAGS, bundled)
      : startH2Server(mode, kind, pinning, node, YOUNG_GENERATION_FLAGS, bundled);
  const children = await Promise.allSettled(modes.map(start));
  const started = children.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
  const failed = children.find((c) => c.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.map((c) => c.stop()));
    throw failed.reason;
  }
  return new Map(modes.map((mode, i) => [mode, started[i]!]));
}

export interface CpuPlan {
  readonly scenarios: readonly ScenarioName[];
  readonly modesOf: (scenario: ScenarioName) => readonly ModeName[];
  /** Rounds of every scenario unless `roundsOf` says otherwise. */
  readonly rounds: number;
  /** Rounds of one scenario (a round r runs the scenarios that have more than r). */
  readonly roundsOf?: (scenario: ScenarioName) => number;
  /** The server's node binary (the parent's by default) and its version, for the samples. */
  readonly node?: { readonly path: string; readonly version: string };
  /** The server children bundled at the start of the run (bundle.ts); the TypeScript sources through tsx otherwise. */
  readonly bundled?: BundledChildren;
  /**
   * Asked after each round with the samples so far and the number of rounds done: a reason to stop before the
   * planned rounds (the run's own statistics are good enough, or its time is up), or undefined to go on.
   */
  readonly stopAfter?: (samples: readonly CpuSample[], roundsDone: number) => string | undefined;
}

/** One round of one server kind: fresh children, warm-up, then the slices of every scenario of that kind. */
async function measureKind(
  kind: ServerKind,
  round: number,
  config: BenchConfig,
  plan: CpuPlan,
  load: LoadChild,
  context: { filePath: string; pinning: Pinning; random: () => number; samples: CpuSample[]; warnings: string[]; phases: Phases },
): Promise<void> {
  const scenarios = plan.scenarios.filter((s) => kindOf(config.scenarios[s]) === kind && round < roundsOf(plan, s));
  if (scenarios.length === 0) return;
  const nodeVersion = plan.node?.version ?? process.version;
  const { random, warnings } = context;
  // A fresh child per (round, server kind, mode), all alive while that kind's scenarios run (idle ones cost
  // nothing), so that the modes' windows can alternate closely: a slow stretch of the machine then lands on both
  // windows of a slice's pairs.
  // Every round runs every mode, so every round measures under the same conditions (the README says why).
  const { phases } = context;
  let mark = performance.now();
  const lap = (phase: keyof Phases) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  const servers = await startRound(kind, [...new Set(scenarios.flatMap((s) => plan.modesOf(s)))], context.filePath, context.pinning, plan.node?.path, random, plan.bundled);
  lap('startMs');
  try {
    for (const scenario of scenarios) {
      const sc = config.scenarios[scenario];
      const modes = plan.modesOf(scenario);
      const shape = sc.http2 ? config.http2Load : config.http1Load;
      const label = (mode: ModeName) => `node ${nodeVersion} round ${round + 1} ${mode} ${scenario}`;
      for (const mode of shuffled(modes, random)) await warmUp(servers.get(mode)!, load, sc, shape, warnings, label(mode));
      lap('warmUpMs');
      // The round's N requests per mode are sent in slices; each slice visits every mode once, in a new random
      // order, one server loaded at a time, so each has core 1 to itself while its window runs (as a server
      // in production has its core) and every server idles alike between its windows. (Loading every mode's
      // window at once, all on core 1, cancelled the machine's moment-to-moment noise but made ten servers
      // share one core's caches: bare hello cost ~30 µs instead of ~19–22, the trackers' Δs were inflated by
      // half or more, and on a quiet machine the spread between rounds was about three times wider. What this
      // order cannot cancel is a machine that is noisy at the scale of seconds: see the README.)
      const emptyTotals = () => ({ cpuUs: 0, systemUs: 0, mainUserUs: 0, mainSystemUs: 0, hasMain: true, gcCount: 0, closesWithError: 0, loadCpuUs: 0, gcUs: 0, requests: 0, aborted: 0, loadMs: 0, windows: [] as number[] });
      const totals = new Map(modes.map((mode) => [mode, emptyTotals()]));
      const add = (t: ReturnType<typeof emptyTotals>, w: Window) => {
        t.cpuUs += w.cpuUs;
        t.systemUs += w.systemUs ?? 0;
        if (w.mainUserUs === undefined || w.mainSystemUs === undefined) t.hasMain = false;
        else {
          t.mainUserUs += w.mainUserUs;
          t.mainSystemUs += w.mainSystemUs;
        }
        t.gcUs += w.gcUs;
        t.gcCount += w.gcCount ?? 0;
        t.loadCpuUs += w.loadCpuUs ?? 0;
        t.closesWithError += w.closesWithError ?? 0;
        t.requests += w.requests;
        t.aborted += w.aborted;
        t.loadMs += w.loadMs;
        t.windows.push(w.cpuUs / w.requests);
      };
      for (let slice = 0; slice < sc.slices; slice++) {
        const count = Math.round((sc.requests * (slice + 1)) / sc.slices) - Math.round((sc.requests * slice) / sc.slices);
        for (const mode of shuffled(modes, random)) add(totals.get(mode)!, await loadWindow(servers.get(mode)!, load, sc, shape, count, warnings, label(mode)));
      }
      lap('windowsMs');
      for (const [mode, t] of totals) {
        if (t.closesWithError > 0) warnings.push(`${label(mode)}: ${t.closesWithError} server sockets closed with an error (a reset) for ${t.aborted} aborting clients`);
        context.samples.push({
          round,
          mode,
          scenario,
          cpuUsPerRequest: median(t.windows),
          meanUsPerRequest: t.cpuUs / t.requests,
          windowUsPerRequest: t.windows,
          systemUsPerRequest: t.systemUs / t.requests,
          ...(t.hasMain ? { mainUsPerRequest: (t.mainUserUs + t.mainSystemUs) / t.requests, mainUserUsPerRequest: t.mainUserUs / t.requests } : {}),
          gcUsPerRequest: t.gcUs / t.requests,
          gcPer1k: (1000 * t.gcCount) / t.requests,
          loadCpuUsPerRequest: t.loadCpuUs / t.requests,
          requests: t.requests,
          aborted: t.aborted,
          closesWithError: t.closesWithError,
          loadMs: t.loadMs,
          node: nodeVersion,
        });
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((child) => load.call('forget', { port: child.port })));
    await Promise.all([...servers.values()].map((child) => child.stop()));
    lap('stopMs');
  }
}

/** Where a round's wall time went: starting the children, warming them up, the measured windows, stopping them. */
interface Phases {
  startMs: number;
  warmUpMs: number;
  windowsMs: number;
  stopMs: number;
}

const roundsOf = (plan: CpuPlan, scenario: ScenarioName): number => plan.roundsOf?.(scenario) ?? plan.rounds;

export async function measureCpu(
  config: BenchConfig,
  plan: CpuPlan,
  filePath: string,
  pinning: Pinning,
  log: (line: string) => void,
): Promise<{ samples: CpuSample[]; warnings: string[]; rounds: number; stoppedBy?: string }> {
  const context = { filePath, pinning, random: mulberry32(config.seed + plan.rounds), samples: [] as CpuSample[], warnings: [] as string[], phases: { startMs: 0, warmUpMs: 0, windowsMs: 0, stopMs: 0 } };
  const nodeVersion = plan.node?.version ?? process.version;
  const load = await startLoad(pinning);
  const rounds = Math.max(...plan.scenarios.map((s) => roundsOf(plan, s)));
  let done = 0;
  let stoppedBy: string | undefined;
  try {
    for (let round = 0; round < rounds && stoppedBy === undefined; round++) {
      const started = performance.now();
      context.phases = { startMs: 0, warmUpMs: 0, windowsMs: 0, stopMs: 0 };
      for (const kind of ['http1', 'core', 'compat'] as const) await measureKind(kind, round, config, plan, load, context);
      const p = context.phases;
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      const line = plan.scenarios
        .filter((scenario) => round < roundsOf(plan, scenario))
        .map((scenario) => {
          const measured = context.samples.filter((s) => s.round === round && s.scenario === scenario && s.node === nodeVersion);
          const bare = measured.find((s) => s.mode === 'bare')!;
          const rest = plan.modesOf(scenario)
            .filter((m) => m !== 'bare')
            .flatMap((m) => measured.filter((s) => s.mode === m).map((s) => `${m} ${signedDiff(s.cpuUsPerRequest - bare.cpuUsPerRequest)}`));
          return `${scenario}: bare ${bare.cpuUsPerRequest.toFixed(2)} µs, Δ ${rest.join(', ')}`;
        })
        .join(' | ');
      log(
        `cpu node ${nodeVersion} round ${round + 1}/${rounds} in ${((performance.now() - started) / 1000).toFixed(0)} s ` +
          `(start ${seconds(p.startMs)}, warm-up ${seconds(p.warmUpMs)}, windows ${seconds(p.windowsMs)}, stop ${seconds(p.stopMs)}) — ${line}`,
      );
      done = round + 1;
      stoppedBy = plan.stopAfter?.(context.samples, done);
      if (stoppedBy !== undefined) log(`cpu node ${nodeVersion}: stopped after ${done} rounds: ${stoppedBy}`);
    }
  } finally {
    await load.stop();
  }
  return { samples: context.samples, warnings: context.warnings, rounds: done, ...(stoppedBy === undefined ? {} : { stoppedBy }) };
}

const signedDiff = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
