import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MissingPeerDependencyError } from '../src/testing/index.js';
import { loadFastCheck } from '../src/testing/loadFastCheck.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('fast-check, the optional peer of the testing subpath', () => {
  it('no module of the testing subpath imports fast-check statically (type imports aside)', () => {
    const dir = path.join(import.meta.dirname, '../src/testing');
    const offenders = fs
      .readdirSync(dir)
      .filter((name) => /^import (?!type )[^;]*from 'fast-check'/m.test(fs.readFileSync(path.join(dir, name), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('turns Node\'s ESM "Cannot find package \'fast-check\'" into a MissingPeerDependencyError naming the package and the install command', async () => {
    const nodeError = Object.assign(new Error("Cannot find package 'fast-check' imported from /app/node_modules/@lifeline/node-adapter/dist/testing/loadFastCheck.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const error = await rejection(loadFastCheck(() => Promise.reject(nodeError)));
    expect(error).toBeInstanceOf(MissingPeerDependencyError);
    expect((error as MissingPeerDependencyError).code).toBe('LIFELINE_MISSING_PEER_DEPENDENCY');
    expect((error as MissingPeerDependencyError).packageName).toBe('fast-check');
    expect((error as Error).message).toMatch(/^checkNoLeaks needs fast-check, an optional peer dependency of @lifeline\/node-adapter that is not installed\. .*npm install --save-dev fast-check/);
    expect((error as Error).cause).toBe(nodeError);
  });

  it('recognises the error Node\'s resolver really throws for a package that is not installed', async () => {
    const require = createRequire(import.meta.url);
    const error = await rejection(loadFastCheck(async () => require('fast-check-is-not-installed-here')));
    expect(error).toBeInstanceOf(MissingPeerDependencyError);
  });

  it('passes other failures through unchanged, and loads fast-check when it is installed', async () => {
    const other = new SyntaxError('Unexpected token');
    expect(await rejection(loadFastCheck(() => Promise.reject(other)))).toBe(other);
    expect(typeof (await loadFastCheck()).asyncProperty).toBe('function');
  });
});
