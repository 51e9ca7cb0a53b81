/**
 * A load driver that costs the server nothing beyond the requests: raw
 * keep-alive TCP connections writing fixed HTTP/1.1 request bytes and
 * counting responses with a minimal parser (status line, Content-Length,
 * body skipped without copying). Runs in the load child (loadProcess.ts), on
 * the other core, so its own cost never shows in the server's CPU time.
 * Node's http client, used before, needs ~4× the server's own work per
 * request: the server then idles between requests and pays a full event
 * loop turn (epoll, timers, a read and a write syscall) for every one.
 */
import { connect, type Socket } from 'node:net';

const HOST = '127.0.0.1';
const HEADER_END = Buffer.from('\r\n\r\n');

export interface RawLoadOptions {
  readonly port: number;
  readonly path: string;
  /** Requests to send, aborting ones included. */
  readonly count: number;
  /** Keep-alive connections, each with at most `pipeline` requests outstanding. */
  readonly connections: number;
  readonly pipeline: number;
  /** Request `i` with `i % abortEvery === abortEvery - 1` is a fresh client that leaves mid-body (0: none). */
  readonly abortEvery: number;
  readonly abortPath: string;
  /**
   * Body bytes the server sends an aborting client before it stalls: the
   * client reads exactly the head and these, then leaves. Leaving on the
   * first chunk instead made the server's cost depend on timing: with bytes
   * still unread the client's kernel answers with a reset (the server then
   * builds an ECONNRESET error), with none it sends a FIN.
   */
  readonly abortAfterBodyBytes: number;
  readonly deadlineMs: number;
}

export interface RawLoadResult {
  readonly completed: number;
  readonly aborted: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly ms: number;
  /** The load child's own CPU time in the run (user + system), to show it stays below the server's. */
  readonly loadCpuUs: number;
}

/**
 * Counts whole responses on one connection. Only what a benchmark server
 * sends: a status line, headers with Content-Length, a body; anything else
 * (chunked, no length) is a failure, never a guess.
 */
export class ResponseCounter {
  #leftover: Buffer | undefined;
  #bodyLeft = 0;
  /** Whether the response whose body is being skipped had status 200. */
  #ok = true;
  constructor(
    readonly onResponse: (ok: boolean) => void,
    readonly onError: (why: string) => void,
  ) {}

  push(chunk: Buffer): void {
    const buf = this.#leftover === undefined ? chunk : Buffer.concat([this.#leftover, chunk]);
    this.#leftover = undefined;
    let pos = 0;
    while (pos < buf.length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, buf.length - pos);
        this.#bodyLeft -= take;
        pos += take;
        if (this.#bodyLeft === 0) this.onResponse(this.#ok);
        continue;
      }
      const end = buf.indexOf(HEADER_END, pos);
      if (end === -1) {
        this.#leftover = buf.subarray(pos);
        return;
      }
      const head = buf.toString('latin1', pos, end).toLowerCase();
      pos = end + 4;
      const ok = head.startsWith('http/1.1 200');
      const at = head.indexOf('\r\ncontent-length:');
      if (at === -1) return this.onError(`response without content-length: ${JSON.stringify(head.slice(0, 200))}`);
      const length = Number.parseInt(head.slice(at + 17, head.indexOf('\r\n', at + 2) >>> 0), 10);
      if (!Number.isFinite(length)) return this.onError('unreadable content-length');
      this.#ok = ok;
      if (length === 0) this.onResponse(ok);
      else this.#bodyLeft = length;
      if (!ok) this.onError(`status ${head.slice(9, 12)}`);
    }
  }
}

/** Keep-alive connections per server port, reused across windows until `forget`. */
const pools = new Map<number, Socket[]>();

function openConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function pool(port: number, size: number): Promise<Socket[]> {
  let sockets = pools.get(port);
  if (sockets === undefined || sockets.length !== size || sockets.some((s) => s.destroyed)) {
    for (const s of sockets ?? []) s.destroy();
    sockets = await Promise.all(Array.from({ length: size }, () => openConnection(port)));
    pools.set(port, sockets);
  }
  return sockets;
}

/** Closes the port's keep-alive connections (the server child is about to go away). */
export function forget(port: number): void {
  for (const s of pools.get(port) ?? []) s.destroy();
  pools.delete(port);
}

/**
 * The bookkeeping both load drivers (this one and h2Load.ts) share: the run's clock and CPU time, its
 * counts and first failure, and its connections, each listening until the run ends. The run ends when
 * every connection has stopped.
 */
export class LoadRun {
  readonly #started = performance.now();
  readonly #cpu = process.cpuUsage();
  completed = 0;
  aborted = 0;
  failed = 0;
  firstError: string | undefined;
  #active = 0;
  #finish: () => void = () => {};
  readonly #done = new Promise<void>((resolve) => (this.#finish = resolve));
  readonly #starts: (() => void)[] = [];
  readonly #cleanups: (() => void)[] = [];

  fail(why: string): void {
    this.failed++;
    this.firstError ??= why;
  }

  /**
   * Adds one connection: its `data` and `close` listeners (removed when the run ends) and what sends its
   * first requests once the run starts. Returns its `stop`, which may be called more than once.
   */
  connection(socket: Socket, onData: (chunk: Buffer) => void, onClose: () => void, start: () => void): () => void {
    socket.on('data', onData);
    socket.on('close', onClose);
    this.#cleanups.push(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
    });
    this.#starts.push(start);
    this.#active++;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--this.#active === 0) this.#finish();
    };
  }

  /** Starts every connection (all listeners are on by then) and waits until all have stopped, or the deadline passed. */
  async run(deadlineMs: number, onDeadline: () => void): Promise<RawLoadResult> {
    const deadline = setTimeout(() => {
      this.fail(`deadline of ${deadlineMs} ms passed`);
      onDeadline();
    }, deadlineMs);
    for (const start of this.#starts) start();
    await this.#done;
    clearTimeout(deadline);
    for (const cleanup of this.#cleanups) cleanup();
    const used = process.cpuUsage(this.#cpu);
    const { completed, aborted, failed, firstError } = this;
    return { completed, aborted, failed, firstError, ms: performance.now() - this.#started, loadCpuUs: used.user + used.system };
  }
}

export async function runRawLoad(o: RawLoadOptions): Promise<RawLoadResult> {
  const run = new LoadRun();
  const sockets = await pool(o.port, o.connections);
  const request = Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const abortRequest = Buffer.from(`GET ${o.abortPath} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  let next = 0;
  const isAbort = (i: number) => o.abortEvery > 0 && i % o.abortEvery === o.abortEvery - 1;

  for (const socket of sockets) {
    let outstanding = 0;
    let waitingForAbort = false;
    /** Sends as many requests as the pipeline allows, in one write; an aborting client pauses this connection until it is gone. */
    const fill = () => {
      let batch = 0;
      while (!waitingForAbort && outstanding + batch < o.pipeline && next < o.count) {
        const i = next++;
        if (isAbort(i)) {
          waitingForAbort = true;
          abortOne(() => {
            waitingForAbort = false;
            fill();
          });
        } else batch++;
      }
      if (batch > 0) {
        outstanding += batch;
        socket.write(batch === 1 ? request : Buffer.concat(Array.from({ length: batch }, () => request)));
      } else if (outstanding === 0 && !waitingForAbort) stop();
    };
    const counter = new ResponseCounter(
      (ok) => {
        outstanding--;
        if (ok) run.completed++;
        if (outstanding === 0 || next < o.count) fill();
      },
      (why) => {
        run.fail(why);
        socket.destroy();
      },
    );
    const onData = (chunk: Buffer) => counter.push(chunk);
    const onClose = () => {
      if (outstanding > 0) run.fail(`connection closed with ${outstanding} responses outstanding`);
      run.failed += outstanding;
      outstanding = 0;
      if (!waitingForAbort) stop();
    };
    const stop = run.connection(socket, onData, onClose, fill);
  }

  const aborting = new Set<Socket>();
  function abortOne(then: () => void): void {
    const socket = connect({ host: HOST, port: o.port, noDelay: true });
    aborting.add(socket);
    let gotData = false;
    let received: Buffer | undefined;
    socket.write(abortRequest);
    const onData = (chunk: Buffer) => {
      received = received === undefined ? chunk : Buffer.concat([received, chunk]);
      const headEnd = received.indexOf(HEADER_END);
      if (headEnd === -1 || received.length < headEnd + 4 + o.abortAfterBodyBytes) return;
      gotData = true;
      socket.off('data', onData);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', (error) => run.fail(`aborting client: ${error.message}`));
    socket.on('close', () => {
      aborting.delete(socket);
      if (gotData) run.aborted++;
      else run.fail('aborting client received nothing');
      then();
    });
  }

  // Every listener is on before the first request goes out.
  return run.run(o.deadlineMs, () => {
    forget(o.port);
    for (const socket of aborting) socket.destroy();
  });
}
