// OpenTelemetry and prom-client are optional peers: only their own subpaths may load them, so that
// importing @lifeline/node-adapter works (and costs nothing more) where neither is installed.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the optional peer dependencies stay behind their subpaths', () => {
  it('no module outside src/otel and src/prometheus imports @opentelemetry/*, prom-client, or those folders', () => {
    const outside = sources(src).filter((file) => !/^(otel|prometheus)\//.test(relative(src, file)));
    expect(outside.length).toBeGreaterThan(10);
    const offenders = outside.filter((file) => /from '(@opentelemetry\/|prom-client|\.\.?\/(otel|prometheus)\/)/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('src/otel never imports prom-client and src/prometheus never imports OpenTelemetry', () => {
    for (const file of sources(join(src, 'otel'))) expect(readFileSync(file, 'utf8')).not.toMatch(/from 'prom-client'/);
    for (const file of sources(join(src, 'prometheus'))) expect(readFileSync(file, 'utf8')).not.toMatch(/from '@opentelemetry\//);
  });
});
