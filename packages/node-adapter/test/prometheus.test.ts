import type http from 'node:http';
import { AggregatorRegistry, Counter, Histogram, Registry as PromRegistry } from 'prom-client';
import { createRegistry, InvalidArgumentError, InvalidOptionsError, type ConnectionEvent } from '@lifeline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionOf, startWatchdog } from '../src/index.js';
import { collectPrometheusMetrics, DURATION_BUCKETS, metricNames } from '../src/prometheus/index.js';
import { get, rawClient, startHttp1, waitFor, waitForReleases } from './helpers/server.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const BIG_CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Responses that started their body and never end. */
const partial: http.ServerResponse[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/ok') res.end('ok');
  else if (req.url === '/stream') {
    res.writeHead(200);
    const pump = () => {
      while (!res.destroyed && res.write(BIG_CHUNK));
    };
    res.on('drain', pump);
    pump();
  } else if (req.url === '/partial') {
    res.writeHead(200).write('partial');
    partial.push(res);
  }
  // '/hang' never answers
}

/** The value of one sample line of the text exposition, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('collectPrometheusMetrics against a real prom-client Registry', () => {
  it('exports in-flight connections by state at scrape time, and every release once by outcome and reason', async () => {
    const t = await startHttp1(handler);
    const prom = new PromRegistry();
    const collector = collectPrometheusMetrics(t.registry, { register: prom });
    cleanups.push(t.close, collector.stop);

    for (let i = 0; i < 3; i++) await get(t.port, '/ok');
    const hanging = await rawClient(t.port);
    hanging.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    const streaming = await rawClient(t.port);
    streaming.write('GET /partial HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => t.registry.size === 2 && partial.length === 1, 'two connections in flight');
    // Plain res.write reports no progress to the registry (only sendFile and pipeResponse do): say the headers went out.
    t.registry.dispatch(connectionOf(partial.pop()!)!.id, { type: 'HEADERS', status: 200 });

    const during = await prom.metrics();
    expect(sample(during, 'lifeline_connections_in_flight{transport="http1",state="open"}')).toBe(1);
    expect(sample(during, 'lifeline_connections_in_flight{transport="http1",state="streaming"}')).toBe(1);

    hanging.destroy();
    streaming.destroy();
    const midBody = await rawClient(t.port);
    midBody.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => midBody.received().length > 1024, 'the first body bytes');
    midBody.destroy();
    await waitForReleases(t, 6);

    const after = await prom.metrics();
    expect(sample(after, 'lifeline_connections_in_flight{transport="http1",state="open"}')).toBe(0);
    expect(sample(after, 'lifeline_connections_in_flight{transport="http1",state="streaming"}')).toBe(0);
    expect(sample(after, 'lifeline_connections_released_total{transport="http1",outcome="finished",reason="none"}')).toBe(3);
    // Each release appears under the reason the registry gave it, and the reasons add up to every release.
    const byReason = new Map<string, number>();
    for (const r of t.releases) {
      if (r.outcome === 'finished') continue;
      const reason = (r.event as { reason: string }).reason;
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
    for (const [reason, count] of byReason) {
      expect(sample(after, `lifeline_connections_released_total{transport="http1",outcome="closed",reason="${reason}"}`)).toBe(count);
    }
    expect([...byReason.values()].reduce((a, b) => a + b, 0)).toBe(3);
    expect(sample(after, 'lifeline_connection_duration_seconds_count{transport="http1",outcome="finished"}')).toBe(3);
    expect(sample(after, 'lifeline_connection_duration_seconds_count{transport="http1",outcome="closed"}')).toBe(3);
    expect(sample(after, 'lifeline_connection_duration_seconds_bucket{le="10",transport="http1",outcome="finished"}')).toBe(3);
    expect(sample(after, 'lifeline_stale_connections_total')).toBe(0);
  });

  it("counts the watchdog's stale connections through onStale, next to their errored/timeout release", async () => {
    const t = await startHttp1(handler);
    const prom = new PromRegistry();
    const collector = collectPrometheusMetrics(t.registry, { register: prom });
    const watchdog = startWatchdog(t.registry, { maxAge: 50, interval: 10, onStale: collector.onStale });
    cleanups.push(t.close, collector.stop, watchdog.stop);

    const response = get(t.port, '/hang');
    await waitForReleases(t, 1);
    expect((await response).status).toBe(503);

    const text = await prom.metrics();
    expect(sample(text, 'lifeline_stale_connections_total')).toBe(1);
    expect(sample(text, 'lifeline_connections_released_total{transport="http1",outcome="errored",reason="timeout"}')).toBe(1);
  });

  it('stop removes the metrics and stops counting', async () => {
    const registry = createRegistry();
    const prom = new PromRegistry();
    const collector = collectPrometheusMetrics([registry], { register: prom });
    registry.dispatch(registry.open(), { type: 'FINISH' });
    expect(sample(await prom.metrics(), 'lifeline_connections_released_total{transport="http1",outcome="finished",reason="none"}')).toBe(1);
    collector.stop();
    registry.dispatch(registry.open(), { type: 'FINISH' });
    expect(await prom.metrics()).not.toContain('lifeline_');
    // The names are free again: a new collector on the same prom-client registry starts from zero.
    collectPrometheusMetrics(registry, { register: prom });
    registry.dispatch(registry.open(), { type: 'FINISH' });
    expect(sample(await prom.metrics(), 'lifeline_connections_released_total{transport="http1",outcome="finished",reason="none"}')).toBe(1);
  });

  it("writes the very text, JSON and cluster aggregate that prom-client's own Counter and Histogram write for the same releases", async () => {
    // Durations on and between bounds, below the first and above the last, each ending kind.
    const endings: [ConnectionEvent, number][] = [
      [{ type: 'FINISH' }, 1],
      [{ type: 'FINISH' }, 5],
      [{ type: 'FINISH' }, 7],
      [{ type: 'FINISH' }, 250],
      [{ type: 'CLOSE', reason: 'aborted' }, 10_000],
      [{ type: 'CLOSE', reason: 'aborted' }, 99_000],
      [{ type: 'CLOSE', reason: 'reset' }, 30],
      [{ type: 'ERROR', reason: 'timeout' }, 2_500],
    ];
    /** One worker: our collector on one prom-client registry, prom-client's own metrics fed the same releases on another. */
    const worker = (count: number) => {
      let now = 0;
      const registry = createRegistry({ clock: () => now, journalSize: 0 });
      const ours = new PromRegistry();
      collectPrometheusMetrics(registry, { register: ours });
      const theirs = new PromRegistry();
      new Counter({ name: metricNames.released, help: 'Connections released, each exactly once, by transport, outcome and reason.', labelNames: ['transport', 'outcome', 'reason'], registers: [theirs] });
      new Histogram({ name: metricNames.duration, help: 'Time from open to release of each connection, in seconds.', labelNames: ['transport', 'outcome'], buckets: [...DURATION_BUCKETS], registers: [theirs] });
      const released = theirs.getSingleMetric(metricNames.released) as Counter;
      const duration = theirs.getSingleMetric(metricNames.duration) as Histogram;
      registry.onRelease((c) => {
        const reason = c.event.type === 'CLOSE' || c.event.type === 'ERROR' ? c.event.reason : 'none';
        released.inc({ transport: c.transport, outcome: c.outcome, reason });
        duration.observe({ transport: c.transport, outcome: c.outcome }, c.duration / 1000);
      });
      for (const [event, ms] of endings.slice(0, count)) {
        const id = registry.open({ transport: ms > 5_000 ? 'http2' : 'http1' });
        now += ms;
        registry.dispatch(id, event);
      }
      return { ours, theirs };
    };
    /** The released and duration metrics only: the other two are prom-client's own classes in both. */
    const mine = (text: string) => text.split('\n\n').filter((block) => block.includes(metricNames.released) || block.includes(metricNames.duration)).join('\n\n');
    const a = worker(endings.length);
    const b = worker(5);
    expect(mine(await a.ours.metrics())).toEqual(await a.theirs.metrics().then((t) => t.trimEnd()));
    expect(mine(await a.ours.metrics())).toContain('lifeline_connection_duration_seconds_bucket{le="0.005",transport="http1",outcome="finished"} 2');
    // prom-client's own values carry an empty exemplar slot; the collector records no exemplars.
    const withoutExemplars = (m: { values: object[] }) => ({ ...m, values: m.values.map(({ exemplar: _, ...v }: { exemplar?: unknown }) => v) });
    const json = async (r: PromRegistry) =>
      (await r.getMetricsAsJSON()).filter((m) => m.name === metricNames.released || m.name === metricNames.duration).map(withoutExemplars);
    expect(await json(a.ours)).toEqual(await json(a.theirs));
    // What the primary of a cluster does with its workers' JSON.
    const aggregate = async (regs: PromRegistry[]) => AggregatorRegistry.aggregate(await Promise.all(regs.map(json))).metrics();
    expect(await aggregate([a.ours, b.ours])).toEqual(await aggregate([a.theirs, b.theirs]));
    expect(await aggregate([a.ours, b.ours])).toContain('lifeline_connections_released_total{transport="http1",outcome="finished",reason="none"} 8');
    // register.resetMetrics() starts the counts again, as it does for prom-client's own metrics.
    a.ours.resetMetrics();
    a.theirs.resetMetrics();
    expect(mine(await a.ours.metrics())).toEqual(await a.theirs.metrics().then((t) => t.trimEnd()));
  });

  it('rejects a missing registry and a register that is not a prom-client Registry', () => {
    expect(() => collectPrometheusMetrics(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => collectPrometheusMetrics(createRegistry(), { register: {} as never })).toThrow(InvalidOptionsError);
  });
});
