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

export async function runRawLoad(o: RawLoadOptions): Promise<RawLoadResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const sockets = await pool(o.port, o.connections);
  const request = Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const abortRequest = Buffer.from(`GET ${o.abortPath} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  let next = 0;
  let completed = 0;
  let aborted = 0;
  let failed = 0;
  let firstError: string | undefined;
  let active = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const fail = (why: string) => {
    failed++;
    firstError ??= why;
  };
  const isAbort = (i: number) => o.abortEvery > 0 && i % o.abortEvery === o.abortEvery - 1;
  const cleanups: (() => void)[] = [];
  const starts: (() => void)[] = [];

  for (const socket of sockets) {
    let outstanding = 0;
    let waitingForAbort = false;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      active--;
      if (active === 0) finish();
    };
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
        if (ok) completed++;
        if (outstanding === 0 || next < o.count) fill();
      },
      (why) => {
        fail(why);
        socket.destroy();
      },
    );
    const onData = (chunk: Buffer) => counter.push(chunk);
    const onClose = () => {
      if (outstanding > 0) fail(`connection closed with ${outstanding} responses outstanding`);
      failed += outstanding;
      outstanding = 0;
      if (!waitingForAbort) stop();
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    cleanups.push(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
    });
    starts.push(fill);
    active++;
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
    socket.on('error', (error) => fail(`aborting client: ${error.message}`));
    socket.on('close', () => {
      aborting.delete(socket);
      if (gotData) aborted++;
      else fail('aborting client received nothing');
      then();
    });
  }

  const deadline = setTimeout(() => {
    fail(`deadline of ${o.deadlineMs} ms passed`);
    forget(o.port);
    for (const socket of aborting) socket.destroy();
  }, o.deadlineMs);
  // Every listener is on before the first request goes out.
  for (const start of starts) start();
  await done;
  clearTimeout(deadline);
  for (const c of cleanups) c();
  const used = process.cpuUsage(cpu);
  return { completed, aborted, failed, firstError, ms: performance.now() - started, loadCpuUs: used.user + used.system };
}
