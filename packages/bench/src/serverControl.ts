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
import { BUNDLED_NODE_FLAGS, type BundledChildren } from './bundle.js';
import type { ModeName } from './modes.js';
import type { CommandName, Commands, Ready, Reply, Request } from './protocol.js';

const TASKSET = '/usr/bin/taskset';
const SERVER_SCRIPT = fileURLToPath(new URL('./serverProcess.ts', import.meta.url));
const H2_SERVER_SCRIPT = fileURLToPath(new URL('./h2ServerProcess.ts', import.meta.url));
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

/** A forked child answering `{ id, cmd, args }` messages, after a first `{ ready, port }` one. */
export interface Child<C extends { [K in keyof C]: { args: unknown; result: unknown } }> {
  readonly port: number;
  readonly pid: number;
  call<K extends keyof C & string>(cmd: K, args?: C[K]['args']): Promise<C[K]['result']>;
  stop(): Promise<void>;
}

export interface ForkOptions {
  readonly name: string;
  /** The core to pin the child to (taskset), when pinning is possible. */
  readonly core: 0 | 1;
  /** The node binary; the parent's own by default. */
  readonly node?: string;
  readonly flags?: readonly string[];
  /** Node flags that come before `flags`: by default the ones that load the TypeScript sources (tsx) and expose gc(). */
  readonly baseFlags?: readonly string[];
  /**
   * A command that runs node, with its arguments (e.g. valgrind and its options): the child is then
   * `wrapper... node flags... script args...`, unpinned. The wrapper must exec node in its own process
   * (as valgrind and taskset do), so that the child's pid is node's.
   */
  readonly wrapper?: readonly string[];
  /** How long the child may take to send its `ready` message; 30 s by default. */
  readonly readyTimeoutMs?: number;
}

export async function forkChild<C extends { [K in keyof C]: { args: unknown; result: unknown } }>(
  script: string,
  args: readonly string[],
  pinning: Pinning,
  options: ForkOptions,
): Promise<Child<C>> {
  const node = options.node ?? process.execPath;
  const flags = [...(options.baseFlags ?? NODE_FLAGS), ...(options.flags ?? [])];
  // fork runs `execPath ...execArgv script ...args`: with taskset as execPath, node is started by taskset on that core.
  const [wrapper, ...wrapperArgs] = options.wrapper ?? [];
  const command =
    wrapper !== undefined
      ? { execPath: wrapper, execArgv: [...wrapperArgs, node, ...flags] }
      : pinning.pinned
        ? { execPath: TASKSET, execArgv: ['-c', String(options.core), node, ...flags] }
        : { execPath: node, execArgv: flags };
  const child = fork(script, args, {
    cwd: PACKAGE_DIR,
    ...command,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    const readyMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => reject(new Error(`${options.name} child not ready within ${readyMs / 1000} s`)), readyMs);
    child.on('message', (message: Ready | Reply) => {
      if ('ready' in message) {
        clearTimeout(timer);
        resolve(message.port);
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(`${options.name} child: ${message.error}`));
    });
    void exited.then(() => {
      clearTimeout(timer);
      const error = new Error(`${options.name} child exited with code ${child.exitCode}`);
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
        const request = { id, cmd, args: args ?? {} };
        // With a callback, a channel that closed (the child died) rejects this call instead of emitting an unhandled 'error'.
        child.send(request, (error) => {
          if (error === null) return;
          pending.delete(id);
          reject(new Error(`${options.name} child: ${cmd} not sent (${error.message}); exit code ${child.exitCode}, signal ${child.signalCode}`));
        });
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

/**
 * A server child in `mode` on core 1, run by `node` (the parent's own by default), with extra node `flags`:
 * the bundled child when `bundled` is given, else the TypeScript source through tsx.
 */
export function startServer(mode: ModeName, filePath: string, pinning: Pinning, node?: string, flags: readonly string[] = [], bundled?: BundledChildren): Promise<ServerChild> {
  return forkChild<Commands>(bundled?.http1 ?? SERVER_SCRIPT, [mode, filePath], pinning, serverForkOptions(`server (${mode})`, flags, node, bundled));
}

/** An HTTP/2 server child in `mode` on core 1, answering on the core API or the compat API (see {@link startServer}). */
export function startH2Server(mode: ModeName, api: 'core' | 'compat', pinning: Pinning, node?: string, flags: readonly string[] = [], bundled?: BundledChildren): Promise<ServerChild> {
  return forkChild<Commands>(bundled?.h2 ?? H2_SERVER_SCRIPT, [mode, api], pinning, serverForkOptions(`h2 ${api} server (${mode})`, flags, node, bundled));
}

/** A server child's fork options: on core 1, by `node` when given, with plain node flags when it is bundled. */
function serverForkOptions(name: string, flags: readonly string[], node: string | undefined, bundled: BundledChildren | undefined): ForkOptions {
  return { name, core: 1, flags, ...(node === undefined ? {} : { node }), ...(bundled === undefined ? {} : { baseFlags: BUNDLED_NODE_FLAGS }) };
}

/** Serves the IPC side of a child: answers `{ id, cmd, args }` with the named handler's result; exits when the parent goes. */
export function serveCommands(handlers: Record<string, (args: never) => unknown>): void {
  const send = process.send!.bind(process);
  process.on('message', (message: Request) => {
    const run = handlers[message.cmd] as ((args: unknown) => unknown) | undefined;
    Promise.resolve()
      .then(() => {
        if (run === undefined) throw new Error(`unknown command ${message.cmd}`);
        return run(message.args);
      })
      .then(
        (result): Reply => ({ id: message.id, ok: true, result }),
        (error: unknown): Reply => ({ id: message.id, ok: false, error: String(error) }),
      )
      .then((reply) => send(reply));
  });
  process.on('disconnect', () => process.exit(0));
}
