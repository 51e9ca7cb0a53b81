/**
 * The ways a server can keep track of its requests, each behind one small
 * interface so that the server process runs the very same harness and routes
 * for all of them and only the tracking differs. Loaded in the server child only.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import onFinished from 'on-finished';
import onFinishedDropIn from '@lifeline/on-finished';
import { createRegistry, type Registry } from '@lifeline/core';
import { instrument, sendFile, track } from '@lifeline/node-adapter';
import { createHttpServerMetricProducer } from '@lifeline/node-adapter/otel';
import { collectPrometheusMetrics } from '@lifeline/node-adapter/prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { IdleReader } from './idleReader.js';
import { Registry as PromRegistry } from 'prom-client';

export const MODE_NAMES = [
  'bare',
  'bare-control',
  'lifeline-instrument',
  'lifeline-instrument-journal8',
  'lifeline-track',
  'lifeline-otel',
  'lifeline-prometheus',
  'on-finished',
  'onfinished-dropin',
  'handwritten',
] as const;
export type ModeName = (typeof MODE_NAMES)[number];

/** What each mode means, for the report. */
export const MODE_DESCRIPTIONS: Record<ModeName, string> = {
  bare: 'plain node:http, nothing tracked',
  'bare-control': 'bare again in a second process: its Δ is the noise between two identical servers (an A/A control)',
  'lifeline-instrument': 'instrument(server, { journalSize: 0 })',
  'lifeline-instrument-journal8': 'instrument(server) (default journal, 8 events)',
  'lifeline-track': 'track(req, res, { registry }) in the handler, registry journalSize 0',
  'lifeline-otel': 'lifeline-instrument + createHttpServerMetricProducer() on an SDK MetricReader (never collected); bench:exporters measures the Meter path',
  'lifeline-prometheus': 'lifeline-instrument + collectPrometheusMetrics(registry) on a prom-client Registry (never scraped)',
  'on-finished': 'onFinished(res, cb) deleting from a Map',
  'onfinished-dropin': 'the same with @lifeline/on-finished in place of on-finished',
  handwritten: "res.once('finish') + res.once('close') deleting from a Map (the floor)",
};

export function isModeName(value: unknown): value is ModeName {
  return typeof value === 'string' && (MODE_NAMES as readonly string[]).includes(value);
}

/** A file served by the `file64k` scenario; its size is stat-ed once, at startup. */
export interface StaticFile {
  readonly path: string;
  readonly size: number;
}

export interface ServerMode {
  /** Once, before the server listens (where `instrument` hooks in). */
  attach(server: Server): void;
  /** First thing in every request handler. */
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Serves the scenario's file. */
  serveFile(res: ServerResponse, file: StaticFile): void;
  /** Connections the mode still tracks: must be 0 once every request has ended (a leak check), or the held count in the memory test. */
  tracked(): number;
}

const ignore = (): void => {};

/**
 * What a careful server does today without lifeline: Content-Length from a
 * cached stat, a read stream, and `stream.pipeline` so that either side's
 * error or an early close tears down both.
 */
export function serveFileByHand(res: ServerResponse, file: StaticFile): void {
  res.setHeader('content-length', file.size);
  res.setHeader('content-type', 'application/octet-stream');
  pipeline(createReadStream(file.path), res, ignore);
}

function viaSendFile(res: ServerResponse, file: StaticFile): void {
  void sendFile(res, file.path);
}

function lifelineInstrument(journalSize: number | undefined, metrics?: (registry: Registry) => void): ServerMode {
  let registry: Registry | undefined;
  return {
    attach(server) {
      registry = (journalSize === undefined ? instrument(server) : instrument(server, { journalSize })).registry;
      metrics?.(registry);
    },
    onRequest: ignore,
    serveFile: viaSendFile,
    tracked: () => registry?.size ?? 0,
  };
}

/**
 * The trackers most servers write today: each request in a Map, deleted when
 * `watch` says the response is done. Only `watch` differs between them.
 */
function liveMapMode(watch: (res: ServerResponse, done: () => void) => void): ServerMode {
  const live = new Map<number, ServerResponse>();
  let seq = 0;
  return {
    attach: ignore,
    onRequest(_req, res) {
      const id = ++seq;
      live.set(id, res);
      watch(res, () => void live.delete(id));
    },
    serveFile: serveFileByHand,
    tracked: () => live.size,
  };
}

export function createMode(name: ModeName): ServerMode {
  switch (name) {
    case 'bare':
    case 'bare-control':
      return { attach: ignore, onRequest: ignore, serveFile: serveFileByHand, tracked: () => 0 };
    case 'lifeline-instrument':
      return lifelineInstrument(0);
    case 'lifeline-instrument-journal8':
      return lifelineInstrument(undefined);
    case 'lifeline-otel':
      return lifelineInstrument(0, (registry) => {
        const producer = createHttpServerMetricProducer({ registry });
        new MeterProvider({ readers: [new IdleReader({ metricProducers: [producer] })] });
      });
    case 'lifeline-prometheus':
      return lifelineInstrument(0, (registry) => void collectPrometheusMetrics(registry, { register: new PromRegistry() }));
    case 'lifeline-track': {
      const registry = createRegistry({ journalSize: 0 });
      return {
        attach: ignore,
        onRequest: (req, res) => void track(req, res, { registry }),
        serveFile: viaSendFile,
        tracked: () => registry.size,
      };
    }
    case 'on-finished':
      return liveMapMode((res, done) => onFinished(res, done));
    case 'onfinished-dropin':
      return liveMapMode((res, done) => onFinishedDropIn(res, done));
    case 'handwritten':
      return liveMapMode((res, done) => {
        res.once('finish', done);
        res.once('close', done);
      });
  }
}
