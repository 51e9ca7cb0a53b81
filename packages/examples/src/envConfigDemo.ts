import { writeFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ConnectionOutcome, RegistryStats } from '@lifeline/core';
import { instrument, sendFile, wrapHandler } from '@lifeline/node-adapter';
import { runIfEntryPoint } from './entryPoint.js';
import { startLoad, type LoadReport } from './loadGenerator.js';
import { closeServer, listenOnLoopback } from './loopbackServer.js';
import { watchResponseEndings, type ResponseEndings } from './responseEndings.js';
import { withTempDir } from './tempDir.js';

/** Options of {@link runEnvConfigDemo}. */
export interface EnvConfigDemoOptions {
  /** Requests sent. Default 1,000. */
  requests?: number;
  /** Requests in flight at once. Default 20. */
  concurrency?: number;
  /** Share of clients that disconnect mid-transfer. Default 0.1. */
  abortShare?: number;
  /** Environments that have a config file. Default production, staging, development. */
  environments?: readonly string[];
  /** Environments that are requested but have no config file (answered 404). Default: preview. */
  missingEnvironments?: readonly string[];
  /** Approximate size of each config file. Default 1 MiB, enough for a client to leave mid-transfer. */
  configBytes?: number;
}

/** How the requests for one environment ended, per the registry. */
export type OutcomeCounts = Record<ConnectionOutcome, number>;

/** Everything a run measured. */
export interface EnvConfigDemoResult {
  /** `registry.size` once every socket had closed. */
  readonly registrySize: number;
  readonly stats: RegistryStats;
  /** Released connections by requested environment and outcome. */
  readonly byEnvironment: Readonly<Record<string, OutcomeCounts>>;
  /** Node's own account of the responses: how many really closed before finishing. */
  readonly endings: ResponseEndings;
  readonly load: LoadReport;
  readonly durationMs: number;
}

const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** The environment named by `/config/<environment>`, if the URL has that shape and a safe name. */
function environmentOf(url: string | undefined): string | undefined {
  const match = /^\/config\/([^/?#]+)(?:[?#].*)?$/.exec(url ?? '');
  const name = match?.[1];
  return name !== undefined && ENVIRONMENT_NAME.test(name) ? name : undefined;
}

/**
 * The framework's "action" from the original bug report: `GET /config/:env`
 * answers with that environment's JSON config file. It is the code path that
 * leaked; here it goes through `sendFile`, which ends the connection however
 * the client behaves and answers 404 for an environment without a file.
 * The name is checked against a strict pattern, so the URL cannot reach
 * outside `configDir`.
 */
export function configAction(configDir: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const environment = environmentOf(req.url);
    if (environment === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    await sendFile(res, join(configDir, `${environment}.json`));
  };
}

/**
 * Maps request `index` to one of `buckets` in a well-mixed but repeatable
 * way (Knuth's multiplicative hash, high bits). A plain `index % buckets`
 * would line up with the evenly spaced aborting requests and send every
 * abort to the same environment.
 */
function spread(index: number, buckets: number): number {
  return (Math.imul(index + 1, 2654435761) >>> 16) % buckets;
}

/**
 * A plausible config for `environment`, padded with feature flags to about
 * `targetBytes`: large enough that a client can leave in the middle of it.
 */
function configFileFor(environment: string, targetBytes: number): string {
  const flag = (i: number) => ({
    name: `flag-${String(i).padStart(5, '0')}`,
    enabled: i % 3 !== 0,
    rolloutPercent: (i * 37) % 101,
    description: `feature ${i} for ${environment}`,
  });
  const flagBytes = JSON.stringify(flag(0)).length + 1;
  const config = {
    environment,
    database: { host: `db.${environment}.internal`, port: 5432, pool: { min: 2, max: 20 } },
    cache: { host: `cache.${environment}.internal`, ttlSeconds: 300 },
    featureFlags: Array.from({ length: Math.max(1, Math.ceil(targetBytes / flagBytes)) }, (_, i) => flag(i)),
  };
  return JSON.stringify(config);
}

/**
 * Serves per-environment config files through {@link configAction} on an
 * instrumented server, under a load in which some clients leave
 * mid-transfer, and reports how the registry accounted for every request
 * once all sockets had closed.
 */
export async function runEnvConfigDemo(options: EnvConfigDemoOptions = {}): Promise<EnvConfigDemoResult> {
  const environments = options.environments ?? ['production', 'staging', 'development'];
  const requested = [...environments, ...(options.missingEnvironments ?? ['preview'])];
  const configBytes = options.configBytes ?? 1024 * 1024;
  const startedAt = performance.now();

  return withTempDir('lifeline-env-config-', async (configDir) => {
    for (const environment of environments) {
      await writeFile(join(configDir, `${environment}.json`), configFileFor(environment, configBytes));
    }
    const server = http.createServer();
    const { registry } = instrument<{ environment: string }>(server, {
      meta: (request) => ({ environment: environmentOf(request.url) ?? '(invalid)' }),
    });
    const byEnvironment: Record<string, OutcomeCounts> = {};
    for (const environment of requested) byEnvironment[environment] = { finished: 0, closed: 0, errored: 0 };
    registry.onRelease(({ meta, outcome }) => {
      const environment = meta?.environment ?? '(unknown)';
      const counts = (byEnvironment[environment] ??= { finished: 0, closed: 0, errored: 0 });
      counts[outcome]++;
    });
    server.on('request', wrapHandler(configAction(configDir)));
    const referee = watchResponseEndings(server);
    const port = await listenOnLoopback(server);
    try {
      const load = await startLoad({
        port,
        requests: options.requests ?? 1_000,
        concurrency: options.concurrency ?? 20,
        abortShare: options.abortShare ?? 0.1,
        path: (index) => `/config/${requested[spread(index, requested.length)]!}`,
      }).done;
      await closeServer(server);
      return {
        registrySize: registry.size,
        stats: registry.stats(),
        byEnvironment,
        endings: referee.counts(),
        load,
        durationMs: performance.now() - startedAt,
      };
    } finally {
      await closeServer(server);
    }
  });
}

async function main(): Promise<void> {
  const requests = 1_000;
  const abortShare = 0.1;
  console.log(
    `Environment config demo: ${requests} requests to GET /config/:env on 127.0.0.1 ` +
      `(production, staging, development; "preview" has no config file), ${abortShare * 100}% of clients leave after the first 64 KiB of a body\n`,
  );
  const result = await runEnvConfigDemo({ requests, abortShare });
  const pad = (value: string | number, width: number) => String(value).padStart(width);
  console.log(`  ${'environment'.padEnd(13)}${pad('finished', 9)}${pad('closed', 8)}${pad('errored', 9)}`);
  for (const [environment, counts] of Object.entries(result.byEnvironment)) {
    console.log(`  ${environment.padEnd(13)}${pad(counts.finished, 9)}${pad(counts.closed, 8)}${pad(counts.errored, 9)}`);
  }
  const { load, endings } = result;
  console.log(
    `\n  clients: ${load.completed} complete, ${load.aborted} left mid-transfer, ${load.failed} failed; ` +
      `server saw ${endings.closedWithoutFinish} responses close before finishing`,
  );
  const { finished, closed, errored } = result.stats.released;
  const summary = `finished ${finished}, closed ${closed}, errored ${errored} of ${result.stats.opened} requests`;
  console.log(
    result.registrySize === 0
      ? `verdict: registry returned to 0 (${summary}) in ${(result.durationMs / 1000).toFixed(1)}s`
      : `verdict: registry still holds ${result.registrySize} entries (${summary})`,
  );
  if (result.registrySize !== 0) process.exitCode = 1;
}

runIfEntryPoint(import.meta.url, main);
