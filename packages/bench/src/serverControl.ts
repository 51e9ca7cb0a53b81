/**
 * Parent side of the server child: forks it (through `taskset` onto core 1
 * when pinning is possible, so server and load generator never share a core),
 * waits for its port, and turns the IPC channel into awaited calls. Every
 * child started here is killed at exit, whatever happens.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ModeName } from './modes.js';
import type { CommandName, Commands, Ready, Reply, Request } from './protocol.js';

const TASKSET = '/usr/bin/taskset';
const SERVER_SCRIPT = fileURLToPath(new URL('./serverProcess.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const NODE_FLAGS = ['--conditions=@lifeline/source', '--import', 'tsx', '--expose-gc'];

export interface Pinning {
  readonly pinned: boolean;
  /** What the report says about it. */
  readonly note: string;
}

/**
 * Pins this process (the load generator, all its threads) to core 0 and
 * arranges for server children to run on core 1. Needs 2+ cores and taskset;
 * otherwise everything runs unpinned and the report says so.
 */
export function setUpPinning(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) return { pinned: false, note: `unpinned: only ${cores} core available` };
  if (!existsSync(TASKSET)) return { pinned: false, note: `unpinned: ${TASKSET} not found` };
  try {
    execFileSync(TASKSET, ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    return { pinned: false, note: `unpinned: taskset failed (${(error as Error).message.split('\n')[0]})` };
  }
  return { pinned: true, note: 'load generator pinned to core 0, server child to core 1 (taskset)' };
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ServerChild {
  readonly port: number;
  readonly pid: number;
  call<K extends CommandName>(cmd: K, args?: Commands[K]['args']): Promise<Commands[K]['result']>;
  /** Closes the channel (the child exits on disconnect) and kills it if it has not exited within 2 s. */
  stop(): Promise<void>;
}

export async function startServer(mode: ModeName, filePath: string, pinning: Pinning): Promise<ServerChild> {
  const child = fork(SERVER_SCRIPT, [mode, filePath], {
    cwd: PACKAGE_DIR,
    // fork runs `execPath ...execArgv script ...args`: with taskset as execPath, node is started by taskset on core 1.
    ...(pinning.pinned ? { execPath: TASKSET, execArgv: ['-c', '1', process.execPath, ...NODE_FLAGS] } : { execArgv: NODE_FLAGS }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server child (${mode}) not ready within 30 s`)), 30_000);
    child.on('message', (message: Ready | Reply) => {
      if ('ready' in message) {
        clearTimeout(timer);
        resolve(message.port);
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(`server child (${mode}): ${message.error}`));
    });
    void exited.then(() => {
      clearTimeout(timer);
      const error = new Error(`server child (${mode}) exited with code ${child.exitCode}`);
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  });

  return {
    port,
    pid: child.pid!,
    call(cmd, args) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        const request: Request = { id, cmd, args: args ?? {} };
        child.send(request);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
