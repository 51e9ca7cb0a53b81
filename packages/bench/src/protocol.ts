/**
 * The IPC protocol between the load-generating parent and the server child.
 * Kept in one place so both sides agree on names and reply shapes; the
 * parent sends `{ id, cmd, ... }` and the child answers `{ id, ok, result }`.
 */
import type { CpuReading } from './cpuWindow.js';

/** URL paths the server child routes on; the same in every mode. */
export const PATHS = {
  hello: '/hello',
  file: '/file',
  /** A 16 KiB body, sent as two 8 KiB writes. */
  body: '/body',
  /** Writes the first 8 KiB of the same 16 KiB body and never the rest: the client leaves mid-body. */
  abort: '/abort',
  /** Never answered until the parent sends `stream` or `release`: the in-flight memory test. */
  hold: '/hold',
} as const;

export const BODY_HALF_BYTES = 8 * 1024;

/**
 * What a held request has been sent when it is measured: `unanswered`, nothing
 * at all (a request waiting on slow work); `streaming`, headers and a first
 * chunk of a longer body (a long download, the case that leaked originally).
 */
export const HOLD_STATES = ['unanswered', 'streaming'] as const;
export type HoldState = (typeof HOLD_STATES)[number];
/** The first chunk a `streaming` held response writes, and the rest it ends with on release. */
export const HOLD_CHUNK_BYTES = 1024;

export interface Commands {
  /** Starts a measurement window: CPU snapshot and request/close counters. */
  begin: { args: Record<string, never>; result: Record<string, never> };
  /**
   * Waits until the window has seen `requests` requests and `closes` socket
   * closes (the aborting clients' sockets), lets the same turn's close
   * handling run, then ends the window.
   */
  end: { args: { requests: number; closes: number }; result: WindowResult };
  /** gc twice, then `process.memoryUsage()`. */
  heap: { args: Record<string, never>; result: { heapUsed: number; external: number } };
  /** Sends headers and a first chunk of {@link HOLD_CHUNK_BYTES} on every held response: they are then `streaming`. */
  stream: { args: Record<string, never>; result: { streaming: number } };
  /** Counts for the memory test's progress and checks. */
  held: { args: Record<string, never>; result: { held: number; tracked: number; connections: number } };
  /** Answers every held request. */
  release: { args: Record<string, never>; result: { released: number } };
}
export type CommandName = keyof Commands;

/** A window's CPU reading (see cpuWindow.ts) and what the server saw in it. */
export interface WindowResult extends CpuReading {
  readonly requests: number;
  readonly closes: number;
  /** Of those, the ones that closed with an error (ECONNRESET and the like). */
  readonly closesWithError: number;
  /** Connections the mode still tracks after the window: 0 unless something leaked. */
  readonly tracked: number;
}

export type Request = { id: number; cmd: CommandName; args: unknown };
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
export type Ready = { ready: true; port: number };
