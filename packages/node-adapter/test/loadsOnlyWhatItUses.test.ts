import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NGHTTP2 } from '../src/http2.js';

// Import cost is measured by `pnpm bench` (a timed test would be flaky); these tests pin down the
// structure that makes it small: what the everyday entry points do not load at all.

const FORBID = fileURLToPath(new URL('./helpers/forbidImports.mjs', import.meta.url));
const CWD = fileURLToPath(new URL('..', import.meta.url));

/** Runs `code` (an ES module) in a fresh process over the TypeScript sources, with `forbidden` imports failing. */
function run(code: string, forbidden: readonly string[]): Promise<{ ok: boolean; output: string }> {
  const args = ['--conditions=@lifeline/source', '--import', 'tsx', '--import', FORBID, '--input-type=module', '-e', code];
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: CWD, env: { ...env, LIFELINE_FORBID: forbidden.join(',') }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ ok: error === null, output: `${stdout}${stderr}` }),
    );
  });
}

// fast-check is a test-time peer: only the testing subpaths may load it.
const HEAVY = ['xstate', 'zod', 'fast-check'];

describe('the everyday entry points load neither XState, zod nor fast-check', () => {
  it('@lifeline/core: import, createRegistry with options, open and release a connection', async () => {
    const { ok, output } = await run(
      `const { createRegistry } = await import('@lifeline/core');
       const { connectionTable } = await import('@lifeline/core/internal');
       const r = createRegistry({ journalSize: 4, clock: () => 1 });
       const id = r.open();
       r.dispatch(id, { type: 'FINISH' });
       if (r.size !== 0 || connectionTable.states.length !== 5) throw new Error('registry misbehaved');
       try { createRegistry({ journalSize: -1 }); throw new Error('no throw'); } catch (e) { if (e.code !== 'LIFELINE_INVALID_OPTIONS') throw e; }
       console.log('ok');`,
      HEAVY,
    );
    expect(output).toContain('ok');
    expect(ok, output).toBe(true);
  });

  it('@lifeline/node-adapter: import, instrument an http server with options, serve one request; node:https, node:http2 and node:fs/promises (loaded by the first sendFile) stay unloaded and node:fs unimported', async () => {
    const { ok, output } = await run(
      `const http = await import('node:http');
       // From Node 22, import('node:http') itself loads node:tls and node:http2: only what comes after counts.
       const before = new Set(process.moduleLoadList);
       const { instrument, startWatchdog, wrapHandler } = await import('@lifeline/node-adapter');
       const server = http.createServer(wrapHandler((req, res) => res.end('hi')));
       const { registry } = instrument(server, { meta: (req) => ({ url: req.url }), journalSize: 2 });
       const watchdog = startWatchdog(registry, { idleTimeout: 60_000 });
       await new Promise((r) => server.listen(0, '127.0.0.1', r));
       // http.get, not fetch: fetch itself loads node:tls and node:http2.
       const body = await new Promise((resolve, reject) =>
         http.get('http://127.0.0.1:' + server.address().port + '/', (res) => {
           let text = '';
           res.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text));
         }).on('error', reject),
       );
       watchdog.stop();
       server.closeAllConnections(); server.close();
       if (body !== 'hi' || registry.stats().released.finished !== 1) throw new Error('not tracked');
       // process.getBuiltinModule() bypasses the resolve hook: ask Node what it has loaded.
       const loaded = process.moduleLoadList.filter((m) => !before.has(m) && /^NativeModule (https|http2|tls)$/.test(m));
       if (loaded.length > 0) throw new Error('loaded ' + loaded.join(', '));
       console.log('ok');`,
      [...HEAVY, 'node:https', 'node:http2', 'node:tls', 'node:fs', 'node:fs/promises'],
    );
    expect(output).toContain('ok');
    expect(ok, output).toBe(true);
  });

  it('the guard works: the machine subpath loads XState, replay loads zod, the core\'s testing subpath fast-check, and each is refused', async () => {
    // Four fresh processes: started together, they cost one's wall time.
    const [machine, replay, testing, https] = await Promise.all([
      run(`await import('@lifeline/core/machine');`, ['xstate']),
      run(`await import('@lifeline/core/replay');`, ['zod']),
      run(`await import('@lifeline/core/testing');`, ['fast-check']),
      run(`await import('node:https');`, ['node:https']),
    ]);
    expect(machine.ok).toBe(false);
    expect(machine.output).toContain('forbidden import: xstate');
    expect(replay.ok).toBe(false);
    expect(replay.output).toContain('forbidden import: zod');
    expect(testing.ok).toBe(false);
    expect(testing.output).toContain('forbidden import: fast-check');
    expect(https.ok).toBe(false);
    expect(https.output).toContain('forbidden import: node:https');
  });
});

describe('constants written out to avoid loading node:http2', () => {
  it('NGHTTP2 error codes equal node:http2 constants', async () => {
    const http2 = await import('node:http2');
    expect(NGHTTP2).toEqual({
      NO_ERROR: http2.constants.NGHTTP2_NO_ERROR,
      INTERNAL_ERROR: http2.constants.NGHTTP2_INTERNAL_ERROR,
      CANCEL: http2.constants.NGHTTP2_CANCEL,
    });
  });
});
