import http2 from 'node:http2';
import type http from 'node:http';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { InvalidArgumentError, InvalidOptionsError } from '@lifeline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServerMetricProducer, DURATION_BUCKETS, recordHttpServerMetrics, type HttpServerMetricsOptions } from '../src/otel/index.js';
import { h2close, h2connect } from './helpers/h2.js';
import { queuedDeathReasons } from './helpers/nodePaths.js';
import { get, rawClient, startHttp1, startHttp2, waitFor, waitForReleases } from './helpers/server.js';

/** A reader the test pulls from: the SDK's own aggregation, no exporter. */
class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

type Kind = 'meter' | 'producer';

/**
 * The SDK with one exporter of ours: recordHttpServerMetrics on one of its
 * meters, or createHttpServerMetricProducer given to its reader.
 */
function startExporter(kind: Kind, options: HttpServerMetricsOptions) {
  const producer = kind === 'producer' ? createHttpServerMetricProducer(options) : undefined;
  const reader = new PullReader(producer === undefined ? {} : { metricProducers: [producer] });
  const provider = new MeterProvider({ readers: [reader] });
  const recorder = producer ?? recordHttpServerMetrics(provider.getMeter('lifeline-test'), options);
  const read = async (name: string): Promise<MetricData | undefined> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  };
  return { read, stop: () => recorder.stop(), shutdown: () => provider.shutdown() };
}

type Attrs = Record<string, unknown>;

/** One row per histogram data point: its attributes and how many requests it counted. */
async function durationPoints(read: (name: string) => Promise<MetricData | undefined>): Promise<{ attributes: Attrs; count: number }[]> {
  const metric = (await read('http.server.request.duration')) as HistogramMetricData | undefined;
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes as Attrs, count: p.value.count }));
}

async function activeSum(read: (name: string) => Promise<MetricData | undefined>): Promise<number> {
  const metric = (await read('http.server.active_requests')) as SumMetricData | undefined;
  return (metric?.dataPoints ?? []).reduce((sum, p) => sum + p.value, 0);
}

/** Every request the histogram counted, one attribute set per request, sorted for comparison. */
function expand(points: { attributes: Attrs; count: number }[]): Attrs[] {
  return sorted(points.flatMap((p) => Array.from({ length: p.count }, () => p.attributes)));
}

function sorted(list: Attrs[]): Attrs[] {
  return [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const BIG_CHUNK = Buffer.alloc(64 * 1024, 'x');

/** '/ok' answers at once; '/hang' never answers; '/stream' writes forever until the client leaves. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url?.startsWith('/ok')) res.end('ok');
  else if (req.url === '/stream') {
    res.writeHead(200);
    const pump = () => {
      while (!res.destroyed && res.write(BIG_CHUNK));
    };
    res.on('drain', pump);
    pump();
  }
}

describe.each(['meter', 'producer'] as const)('the OpenTelemetry HTTP server metrics through a %s, with the SDK over real 127.0.0.1 sockets', (kind) => {
  it('records every HTTP/1 request once, pipelined queues and mid-body aborts included, and active requests return to 0', async () => {
    const t = await startHttp1(handler);
    const sdk = startExporter(kind, { registry: t.instrumentation });
    cleanups.push(sdk.shutdown, t.close, sdk.stop);

    for (let i = 0; i < 4; i++) await get(t.port, '/ok');
    // Three pipelined requests: the first hangs, the two behind it wait in Node's queue, then the client leaves.
    const pipelined = await rawClient(t.port);
    pipelined.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\nPOST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    await waitFor(() => t.registry.stats().opened === 7, 'the three pipelined requests to open');
    expect(await activeSum(sdk.read)).toBe(3);
    pipelined.destroy();
    // A client that leaves mid-body.
    const midBody = await rawClient(t.port);
    midBody.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => midBody.received().length > 1024, 'the first body bytes');
    midBody.destroy();
    await waitForReleases(t, 8);

    const recorded = expand(await durationPoints(sdk.read));
    const base = { 'url.scheme': 'http', 'network.protocol.version': '1.1' };
    const expected = [
      ...Array.from({ length: 4 }, () => ({ ...base, 'http.request.method': 'GET', 'http.response.status_code': 200, 'lifeline.outcome': 'finished' })),
    ];
    const finished = recorded.filter((a) => a['lifeline.outcome'] === 'finished');
    expect(finished).toEqual(expected);
    const ended = recorded.filter((a) => a['lifeline.outcome'] !== 'finished');
    expect(ended).toHaveLength(4);
    for (const a of ended) expect(a).toMatchObject({ ...base, 'lifeline.outcome': 'closed' });
    // Connection ids follow opening order: 5 is the hanging head, 6 and 7 wait behind it, 8 is left mid-body.
    const reasonOf = (id: number) => (t.releases.find((r) => r.id === id)!.event as { reason: string }).reason;
    // The head never answered, so no status was sent.
    const head = ended.filter((a) => a['http.response.status_code'] === undefined);
    expect(head).toEqual([{ ...base, 'http.request.method': 'GET', 'lifeline.outcome': 'closed', 'error.type': reasonOf(5) }]);
    // The queued two were answered by the handler (Node buffers their 200) but never reached the client.
    const post = ended.filter((a) => a['http.request.method'] === 'POST');
    expect(post).toEqual([{ ...base, 'http.request.method': 'POST', 'http.response.status_code': 200, 'lifeline.outcome': 'closed', 'error.type': reasonOf(7) }]);
    expect(queuedDeathReasons).toContain(reasonOf(6));
    expect(queuedDeathReasons).toContain(reasonOf(7));
    expect(ended.map((a) => a['error.type']).sort()).toEqual([5, 6, 7, 8].map(reasonOf).sort());
    expect(['aborted', 'reset']).toContain(reasonOf(8));
    expect(await activeSum(sdk.read)).toBe(0);
    expect(t.registry.size).toBe(0);
  });

  it('records HTTP/2 cancels as error.type cancelled, with protocol version 2, and active requests return to 0', async () => {
    const t = await startHttp2({
      stream: (stream, headers) => {
        if (headers[':path'] === '/ok') {
          stream.respond({ ':status': 201 });
          stream.end('ok');
        } else {
          stream.respond({ ':status': 200 });
          stream.write(BIG_CHUNK);
        }
      },
    });
    const sdk = startExporter(kind, { registry: t.registry });
    cleanups.push(sdk.shutdown, t.close, sdk.stop);
    const session = await h2connect(t.port);
    cleanups.push(() => h2close(session));

    const cancelled: http2.ClientHttp2Stream[] = [];
    for (let i = 0; i < 3; i++) {
      const s = session.request({ ':path': '/stream' });
      s.on('error', () => {});
      cancelled.push(s);
    }
    const ok = session.request({ ':path': '/ok', ':method': 'DELETE' });
    ok.resume();
    ok.on('error', () => {});
    await waitFor(() => t.registry.stats().opened === 4, 'four streams to open');
    await waitFor(() => t.registry.stats().released.finished === 1, 'the /ok stream to finish');
    expect(await activeSum(sdk.read)).toBe(3);
    for (const s of cancelled) s.close(http2.constants.NGHTTP2_CANCEL);
    await waitForReleases(t, 4);

    const recorded = expand(await durationPoints(sdk.read));
    const base = { 'url.scheme': 'http', 'network.protocol.version': '2' };
    expect(recorded).toEqual(sorted([
      ...Array.from({ length: 3 }, () => ({
        ...base,
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'lifeline.outcome': 'closed',
        'error.type': 'cancelled',
      })),
      { ...base, 'http.request.method': 'DELETE', 'http.response.status_code': 201, 'lifeline.outcome': 'finished' },
    ]));
    expect(await activeSum(sdk.read)).toBe(0);
  });

  it('uses the advised buckets, maps unknown methods to _OTHER, and sets http.route only from the route function', async () => {
    const t = await startHttp1(handler);
    const other = await startHttp1(handler);
    const sdk = startExporter(kind, {
      registry: t.registry,
      route: ({ url }) => (url?.startsWith('/ok') ? '/ok' : undefined),
    });
    cleanups.push(sdk.shutdown, t.close, other.close, sdk.stop);

    await get(t.port, '/ok?user=1', { method: 'PROPFIND' });
    await get(t.port, '/ok?user=2');
    await get(other.port, '/ok');
    await waitForReleases(t, 2);
    await waitForReleases(other, 1);

    const metric = (await sdk.read('http.server.request.duration')) as HistogramMetricData;
    expect(metric.descriptor.unit).toBe('s');
    expect(metric.dataPoints[0]!.value.buckets.boundaries).toEqual(DURATION_BUCKETS);
    for (const { value } of metric.dataPoints) {
      expect(value.buckets.counts.reduce((a, b) => a + b, 0)).toBe(value.count);
      expect(value.min).toBeGreaterThanOrEqual(0);
      expect(value.max).toBeGreaterThanOrEqual(value.min!);
      expect(value.sum).toBeGreaterThanOrEqual(value.min! * value.count);
      expect(value.sum).toBeLessThanOrEqual(value.max! * value.count);
    }
    expect(expand(await durationPoints(sdk.read)).map((a) => [a['http.request.method'], a['http.route']]).sort()).toEqual([
      ['GET', '/ok'],
      ['_OTHER', '/ok'],
    ]);
  });

  it('records nothing after stop', async () => {
    const t = await startHttp1(handler);
    const sdk = startExporter(kind, { registry: t.registry });
    cleanups.push(sdk.shutdown, t.close);
    await get(t.port, '/ok');
    await waitForReleases(t, 1);
    sdk.stop();
    await get(t.port, '/ok');
    await waitForReleases(t, 2);
    expect((await durationPoints(sdk.read)).reduce((n, p) => n + p.count, 0)).toBe(1);
    // Requests open at stop would never fall again: active requests are no longer reported.
    expect(((await sdk.read('http.server.active_requests')) as SumMetricData | undefined)?.dataPoints ?? []).toEqual([]);
  });

});

describe('the OpenTelemetry exporters check their arguments', () => {
  it('rejects a missing meter and unknown options at the call', () => {
    expect(() => recordHttpServerMetrics(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => recordHttpServerMetrics(metrics.getMeter('x'), { routes: () => '/' } as never)).toThrow(InvalidOptionsError);
    expect(() => recordHttpServerMetrics(metrics.getMeter('x'), { registry: {} as never })).toThrow(/registry/);
    expect(() => createHttpServerMetricProducer({ routes: () => '/' } as never)).toThrow(/createHttpServerMetricProducer.*routes/);
    expect(() => createHttpServerMetricProducer({ registry: {} as never })).toThrow(InvalidOptionsError);
  });
});
