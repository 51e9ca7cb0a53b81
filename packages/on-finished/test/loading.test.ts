/**
 * The drop-in loads the way its users load on-finished: express, send, morgan and finalhandler are
 * CommonJS and call what `require('on-finished')` returns; ESM code imports it. Both run in a child
 * process against the published build (dist/ and index.cjs), not the TypeScript source.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../../scripts/ensureBuilt.mjs';

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function consume(name: string): Promise<{ result: Record<string, unknown>; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, [fixture(name)], { timeout: 20_000 });
  return { result: JSON.parse(stdout) as Record<string, unknown>, stderr };
}

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);

describe('loading the published package', () => {
  it('require() returns the on-finished function itself, with isFinished on it, and it works', async () => {
    const { result, stderr } = await consume('consumer.cjs');
    expect(result).toEqual({
      typeofExport: 'function',
      typeofIsFinished: 'function',
      err: null,
      sameMessage: true,
      finished: true,
      exportsKeys: ['isFinished'],
    });
    expect(stderr).toBe('');
  });

  it('import gives the function as default export and isFinished by name, the same instance require() gives', async () => {
    const { result, stderr } = await consume('consumer.mjs');
    expect(result).toEqual({
      typeofDefault: 'function',
      sameIsFinished: true,
      requireGivesTheSameFunction: true,
      err: null,
      sameMessage: true,
      finished: true,
      inFlightAfter: 0,
    });
    expect(stderr).toBe('');
  });
});
