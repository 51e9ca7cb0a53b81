/**
 * The same Express 5 app (express.static + morgan, see express/app.cjs) run twice, with stock on-finished
 * and with @lifeline/on-finished swapped in as a package-manager override would, under two loads that
 * leave mid-body: pipelined batches whose socket dies, and ordinary aborts. For each run it reports what
 * the server process still holds afterwards: descriptors of served files left open, and requests morgan
 * never logged.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegistryStats } from '@lifeline/core';
import { ensureBuilt } from '../../../scripts/ensureBuilt.mjs';
import { runIfEntryPoint } from './entryPoint.js';
import { withTempDir } from './tempDir.js';

export type Variant = 'stock' | 'drop-in';
export type Load = 'pipelined' | 'aborts';

export interface ExpressRun {
  variant: Variant;
  load: Load;
  /** The file express's `require('on-finished')` loaded in the server process. */
  onFinished: string;
  /** Requests the app received. */
  requests: number;
  /** Lines morgan wrote. */
  morganLines: number;
  /** Descriptors of served files still open once every connection has closed and nothing changes any more. */
  openServedFiles: number;
  /** With `instrument`: the application registry's stats, and how many requests had a connection in the first middleware. */
  registry?: RegistryStats & { withConnection: number };
}

export interface ExpressDemoOptions {
  /** Sockets per load. Default 10. */
  sockets?: number;
  /** Pipelined GETs per socket in the `pipelined` load. Default 3. */
  pipelined?: number;
  /** Bytes a client reads before it leaves. Default 100 KB. */
  leaveAfter?: number;
  /** Size of the served file. Default 5 MB. */
  fileBytes?: number;
  /** Also `instrument` the app's server (the README's Express setup). Default false. */
  instrument?: boolean;
}

interface Stats {
  requests: number;
  morganLines: number;
  openServedFiles: number;
  connections: number;
  registry?: RegistryStats & { withConnection: number };
}

const appPath = fileURLToPath(new URL('./express/app.cjs', import.meta.url));
const useDropIn = fileURLToPath(new URL('./express/useDropIn.cjs', import.meta.url));

/** Starts the app in its own process (its descriptors are its own), on the drop-in or not. */
async function startApp(variant: Variant, dir: string, instrument: boolean): Promise<{ child: ChildProcess; port: number; onFinished: string }> {
  // The app is plain CommonJS run by plain node: no TypeScript loader, no source conditions, the real build.
  const child = fork(appPath, instrument ? [dir, '--instrument'] : [dir], {
    execArgv: variant === 'drop-in' ? ['--require', useDropIn] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${variant} app exited with ${code} before listening`)));
    child.once('message', (m: { type: string; port: number; onFinished: string }) => resolve({ child, port: m.port, onFinished: m.onFinished }));
  });
}

function statsOf(child: ChildProcess): Promise<Stats> {
  return new Promise((resolve) => {
    const onMessage = (m: Stats & { type: string }) => {
      if (m.type !== 'stats') return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send({ type: 'stats' });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the server has no connection left and has received `requests`, then until either nothing
 * is held (no served file open, every request logged) or nothing has changed for a while: a leak cannot
 * be waited for, only seen to stay.
 */
async function settle(child: ChildProcess, requests: number): Promise<Stats> {
  const deadline = Date.now() + 30_000;
  let stats = await statsOf(child);
  while (stats.connections > 0 || stats.requests < requests) {
    if (Date.now() > deadline) throw new Error(`server did not settle: ${JSON.stringify(stats)}`);
    await sleep(50);
    stats = await statsOf(child);
  }
  let unchanged = 0;
  while (!(stats.openServedFiles === 0 && stats.morganLines === stats.requests) && unchanged < 5) {
    if (Date.now() > deadline) break;
    await sleep(200);
    const next = await statsOf(child);
    unchanged = next.openServedFiles === stats.openServedFiles && next.morganLines === stats.morganLines ? unchanged + 1 : 0;
    stats = next;
  }
  return stats;
}

/** One socket sending `count` pipelined GETs, left (destroyed) after `leaveAfter` bytes. */
function pipelinedThenLeave(port: number, count: number, leaveAfter: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(count));
    });
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= leaveAfter) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => (received >= leaveAfter ? resolve() : reject(new Error(`socket closed after ${received} bytes`))));
  });
}

/** One ordinary GET on its own connection, aborted after `leaveAfter` bytes of body. */
function getThenAbort(port: number, leaveAfter: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/big.bin', agent: false }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= leaveAfter) req.destroy();
      });
      res.on('error', () => {});
      res.on('close', () => (received >= leaveAfter ? resolve() : reject(new Error(`response closed after ${received} bytes`))));
    });
    req.on('error', () => {});
  });
}

/** Runs `load` against a fresh app process of `variant` and measures what it holds afterwards. */
export async function runExpress(variant: Variant, load: Load, dir: string, options: ExpressDemoOptions = {}): Promise<ExpressRun> {
  const { sockets = 10, pipelined = 3, leaveAfter = 100 * 1024, instrument = false } = options;
  const { child, port, onFinished } = await startApp(variant, dir, instrument);
  try {
    const expected = load === 'pipelined' ? sockets * pipelined : sockets;
    const clients = Array.from({ length: sockets }, () =>
      load === 'pipelined' ? pipelinedThenLeave(port, pipelined, leaveAfter) : getThenAbort(port, leaveAfter),
    );
    await Promise.all(clients);
    const stats = await settle(child, expected);
    const run: ExpressRun = { variant, load, onFinished, requests: stats.requests, morganLines: stats.morganLines, openServedFiles: stats.openServedFiles };
    return stats.registry === undefined ? run : { ...run, registry: stats.registry };
  } finally {
    child.removeAllListeners('exit');
    child.kill();
  }
}

/** Runs `use` with a directory holding the served file, `big.bin`, and the build the app loads. */
export async function withServedFile<T>(fileBytes: number, use: (dir: string) => Promise<T>): Promise<T> {
  await ensureBuilt();
  return withTempDir('lifeline-express-', async (dir) => {
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(fileBytes, 7));
    return use(dir);
  });
}

/** Every variant under every load, on one served file. */
export async function runExpressDemo(options: ExpressDemoOptions = {}): Promise<ExpressRun[]> {
  return withServedFile(options.fileBytes ?? 5 * 1024 * 1024, async (dir) => {
    const runs: ExpressRun[] = [];
    for (const load of ['pipelined', 'aborts'] as const) {
      for (const variant of ['stock', 'drop-in'] as const) runs.push(await runExpress(variant, load, dir, options));
    }
    return runs;
  });
}

async function main(): Promise<void> {
  console.log(`Express 5 + express.static + morgan on Node ${process.version}: 10 sockets, 5 MB file, clients leave after 100 KB`);
  const runs = await runExpressDemo();
  const rows = runs.map((r) => ({
    load: r.load === 'pipelined' ? '3 pipelined GETs per socket' : '1 GET per socket',
    'on-finished': r.variant === 'stock' ? 'stock 2.4.1' : '@lifeline/on-finished',
    requests: r.requests,
    'morgan lines': r.morganLines,
    'served files still open': r.openServedFiles,
  }));
  console.table(rows);
  for (const r of runs) {
    const missing = r.requests - r.morganLines;
    console.log(
      `${r.load.padEnd(9)} ${r.variant.padEnd(7)}: ${r.openServedFiles} descriptor(s) left open, ${missing} request(s) never logged` +
        `  [on-finished from ${r.onFinished}]`,
    );
  }
}

runIfEntryPoint(import.meta.url, main);
