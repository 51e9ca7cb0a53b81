// The transport examples run as their pnpm scripts say: each script's command is taken from
// package.json (with this test's own node binary, so each Node version under test runs it) and
// must exit 0 with a verdict that says every ending was the right one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, workspaceRoot } from './helpers/publishable.js';

const examplesDir = join(workspaceRoot, 'packages', 'examples');
const scriptsOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

async function runScript(name: string) {
  const [command, ...args] = scriptsOf(examplesDir)[name]!.split(' ');
  expect(command).toBe('node');
  return run(process.execPath, args, { cwd: examplesDir, timeoutMs: 30_000 });
}

describe.concurrent('transport example scripts', () => {
  it.each(['example:ws-rpc', 'example:jobs'])('%s is a root script too, delegating to the examples package', (name) => {
    expect(scriptsOf(workspaceRoot)[name]).toBe(`pnpm --filter @lifeline/examples ${name}`);
  });

  it('example:ws-rpc exits 0 and prints that every call and socket ended as its client implies, the registry back to 0', async () => {
    const { code, stdout, stderr } = await runScript('example:ws-rpc');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(
      /^verdict: 36 calls over 12 sockets; calls: closed\/session-closed 8, errored\/handler-error 12, errored\/shutdown 4, finished 12; sockets: closed\/aborted \(code 1006\) 4, errored\/shutdown 4, finished \(code 1000\) 4; registry returned to 0; every call and socket ended as its client implies$/m,
    );
  }, 40_000);

  it('example:jobs exits 0 and prints that every job ended as planned, the registry back to 0', async () => {
    const { code, stdout, stderr } = await runScript('example:jobs');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^verdict: 24 jobs, concurrency 3 \(at most 3 ran at once\); cancelled\/requested 7, cancelled\/shutdown 8, done 6, failed 3; registry returned to 0; every job ended as planned$/m);
  }, 40_000);
});
