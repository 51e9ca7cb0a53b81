/**
 * The HTTP/2 load: `sessions` cleartext (h2c, prior knowledge) connections,
 * each keeping `streams` GET requests in flight, written as raw frames.
 * Node's own http2 client costs several times the server's work per stream,
 * so the server would idle between small batches and pay a full event loop
 * turn for each; this one writes a fixed HEADERS frame (HPACK static-table
 * and literal fields, so it never depends on a dynamic table) with only the
 * stream id changing, and reads frame headers, never decoding a header block
 * beyond checking it starts with `:status: 200` (static index 8).
 * Sessions are reused across windows until `forgetH2`.
 */
import { connect, type Socket } from 'node:net';
import { LoadRun, type RawLoadResult } from './rawLoad.js';

export interface H2LoadOptions {
  readonly port: number;
  readonly path: string;
  readonly count: number;
  readonly sessions: number;
  /** Concurrent streams per session. */
  readonly streams: number;
  /**
   * Refill a session only once all its streams have ended, so the server always reads whole
   * batches of `streams` requests, whatever its speed relative to the load (the instruction
   * count section: a server under valgrind is slow, and ragged refills change its work per
   * stream from one window to the next). Off by default: streams are refilled as they end.
   */
  readonly wholeBatches?: boolean;
  readonly deadlineMs: number;
}

const HOST = '127.0.0.1';
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7 } as const;
const END_STREAM = 0x1;
const ACK = 0x1;
const STATUS_200 = 0x88;
/** The connection-level receive window is opened this wide at the start and topped up by what was read. */
const WINDOW = 1 << 30;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId, 5);
  payload.copy(out, 9);
  return out;
}

function windowUpdate(increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment, 0);
  return frame(8, 0, 0, payload);
}

/** `:method GET`, `:scheme http` (indexed), `:path` and `:authority` (literal without indexing, indexed names 4 and 1). */
function requestBlock(path: string): Buffer {
  const literal = (index: number, value: string) => {
    if (value.length > 126) throw new RangeError('header value too long for a one-byte length');
    return Buffer.concat([Buffer.from([index, value.length]), Buffer.from(value, 'latin1')]);
  };
  return Buffer.concat([Buffer.from([0x82, 0x86]), literal(0x04, path), literal(0x01, HOST)]);
}

interface Session {
  readonly socket: Socket;
  nextStreamId: number;
}

const pools = new Map<number, Session[]>();

function openSession(port: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // counted by the run that sees the close
      socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0)), windowUpdate(WINDOW)]));
      resolve({ socket, nextStreamId: 1 });
    });
    socket.once('error', reject);
  });
}

async function pool(port: number, size: number): Promise<Session[]> {
  let sessions = pools.get(port);
  if (sessions === undefined || sessions.length !== size || sessions.some((s) => s.socket.destroyed)) {
    for (const s of sessions ?? []) s.socket.destroy();
    sessions = await Promise.all(Array.from({ length: size }, () => openSession(port)));
    pools.set(port, sessions);
  }
  return sessions;
}

export function forgetH2(port: number): void {
  for (const s of pools.get(port) ?? []) s.socket.destroy();
  pools.delete(port);
}

export async function runH2Load(o: H2LoadOptions): Promise<RawLoadResult> {
  const run = new LoadRun();
  const sessions = await pool(o.port, o.sessions);
  const block = requestBlock(o.path);
  const headersFrame = frame(FRAME.HEADERS, END_STREAM | 0x4, 0, block);
  let next = 0;

  for (const session of sessions) {
    const { socket } = session;
    let outstanding = 0;
    let leftover: Buffer | undefined;
    let unacknowledged = 0;
    const badStatus = new Set<number>();
    const fill = () => {
      const n = Math.min(o.streams - outstanding, o.count - next);
      if (n <= 0) {
        if (outstanding === 0) stop();
        return;
      }
      const out = Buffer.allocUnsafe(n * headersFrame.length);
      for (let k = 0; k < n; k++) {
        headersFrame.copy(out, k * headersFrame.length);
        out.writeUInt32BE(session.nextStreamId, k * headersFrame.length + 5);
        session.nextStreamId += 2;
      }
      next += n;
      outstanding += n;
      socket.write(out);
    };
    const streamEnded = (streamId: number) => {
      outstanding--;
      if (badStatus.delete(streamId)) run.fail(`stream ${streamId}: status other than 200`);
      else run.completed++;
    };
    const onData = (chunk: Buffer) => {
      const buf = leftover === undefined ? chunk : Buffer.concat([leftover, chunk]);
      leftover = undefined;
      let pos = 0;
      let ended = 0;
      const replies: Buffer[] = [];
      while (buf.length - pos >= 9) {
        const length = buf.readUIntBE(pos, 3);
        if (buf.length - pos < 9 + length) break;
        const type = buf[pos + 3]!;
        const flags = buf[pos + 4]!;
        const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
        const payload = pos + 9;
        pos += 9 + length;
        if (type === FRAME.DATA) unacknowledged += length;
        else if (type === FRAME.HEADERS && buf[payload] !== STATUS_200) badStatus.add(streamId);
        else if (type === FRAME.SETTINGS && (flags & ACK) === 0) replies.push(frame(FRAME.SETTINGS, ACK, 0, Buffer.alloc(0)));
        else if (type === FRAME.PING && (flags & ACK) === 0) replies.push(frame(FRAME.PING, ACK, 0, buf.subarray(payload, payload + 8)));
        else if (type === FRAME.RST_STREAM) {
          run.fail(`stream ${streamId} reset with code ${buf.readUInt32BE(payload)}`);
          outstanding--;
          continue;
        } else if (type === FRAME.GOAWAY) {
          run.fail(`GOAWAY with code ${buf.readUInt32BE(payload + 4)}`);
          socket.destroy();
          return;
        }
        if ((type === FRAME.DATA || type === FRAME.HEADERS) && (flags & END_STREAM) !== 0) {
          streamEnded(streamId);
          ended++;
        }
      }
      if (pos < buf.length) leftover = buf.subarray(pos);
      if (unacknowledged > WINDOW / 2) {
        replies.push(windowUpdate(unacknowledged));
        unacknowledged = 0;
      }
      if (replies.length > 0) socket.write(Buffer.concat(replies));
      if (o.wholeBatches ? outstanding === 0 : ended > 0 || outstanding === 0) fill();
    };
    const onClose = () => {
      if (outstanding > 0) run.fail(`session closed with ${outstanding} streams outstanding`);
      run.failed += outstanding;
      outstanding = 0;
      stop();
    };
    const stop = run.connection(socket, onData, onClose, fill);
  }

  return run.run(o.deadlineMs, () => forgetH2(o.port));
}
