import { createReadStream, type ReadStream } from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, type DemoServer } from './loopbackServer.js';
import { watchResponseEndings, type ResponseEndings } from './responseEndings.js';

/** One entry of the naive bookkeeping: what the framework kept per request. */
interface NaiveConnection {
  readonly id: number;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly startedAt: number;
  /** Holding the response is what made each leaked entry expensive. */
  readonly res: ServerResponse;
}

/** The naive server, with what the demo needs to see inside it. */
export interface NaiveServer extends DemoServer {
  /** Node's own account of how its responses ended. */
  endings(): ResponseEndings;
  /**
   * File streams `pipe()` left open because the client left, each holding a
   * file descriptor. After `close()`: how many were open when the last socket
   * closed (`close()` then destroys them).
   */
  openFileStreams(): number;
}

/**
 * Starts the server as the framework wrote it, bug included: each request
 * gets an entry in a plain object, deleted on the response's `finish` only,
 * and the file is sent with `createReadStream(path).pipe(res)`. A client that
 * disconnects mid-transfer makes the response emit `close` without `finish`,
 * so its entry is never deleted; `pipe()` does not destroy its source either,
 * so the file stays open too. Listens on 127.0.0.1, port 0.
 */
export async function startNaiveServer(filePath: string): Promise<NaiveServer> {
  const connections: Record<number, NaiveConnection> = {};
  let nextId = 0;
  // Not part of the original: lets the demo count, and finally close, the streams pipe() abandons.
  const fileStreams = new Set<ReadStream>();

  const server = http.createServer((req, res) => {
    const id = ++nextId;
    connections[id] = { id, method: req.method, url: req.url, startedAt: Date.now(), res };
    res.on('finish', () => {
      delete connections[id];
    });
    res.setHeader('content-type', 'application/octet-stream');
    const file = createReadStream(filePath);
    fileStreams.add(file);
    file.on('close', () => fileStreams.delete(file));
    file.pipe(res);
  });
  const referee = watchResponseEndings(server);
  const port = await listenOnLoopback(server);

  // A stream that reached its end is only waiting for its descriptor to close; one that did not was abandoned.
  const abandoned = () => [...fileStreams].filter((file) => !file.readableEnded).length;
  let abandonedAtClose: number | undefined;
  let closing: Promise<void> | undefined;
  return {
    port,
    inFlight: () => Object.keys(connections).length,
    endings: () => referee.counts(),
    openFileStreams: () => abandonedAtClose ?? abandoned(),
    close: () =>
      (closing ??= closeServer(server).then(() => {
        abandonedAtClose = abandoned();
        // The demo process outlives the server (a test run, say): give the abandoned descriptors back.
        for (const file of fileStreams) file.destroy();
      })),
  };
}
