/**
 * The tracking modes of the HTTP/2 scenarios, by the same names as the
 * HTTP/1 ones: what `bare`, `handwritten` and the Lifeline modes mean for a
 * server answering streams (core API) or compat requests. Loaded in the
 * HTTP/2 server child only.
 */
import type { Http2Server, Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import { createRegistry } from '@lifeline/core';
import { instrument, track, trackStream } from '@lifeline/node-adapter';
import type { ModeName } from './modes.js';

export const H2_MODE_NAMES = ['bare', 'bare-control', 'handwritten', 'lifeline-instrument', 'lifeline-instrument-journal8', 'lifeline-track'] as const satisfies readonly ModeName[];
export type H2ModeName = (typeof H2_MODE_NAMES)[number];

export const H2_MODE_DESCRIPTIONS: Record<H2ModeName, string> = {
  bare: 'plain node:http2, nothing tracked',
  'bare-control': 'bare again in a second process (an A/A control)',
  handwritten: "stream.once('close') deleting from a Map (the floor; compat: on res.stream)",
  'lifeline-instrument': 'instrument(server, { journalSize: 0 })',
  'lifeline-instrument-journal8': 'instrument(server) (default journal, 8 events)',
  'lifeline-track': 'trackStream(stream) (compat: track(req, res)) in the handler, registry journalSize 0',
};

export function isH2ModeName(value: unknown): value is H2ModeName {
  return typeof value === 'string' && (H2_MODE_NAMES as readonly string[]).includes(value);
}

export interface H2Mode {
  attach(server: Http2Server): void;
  /** First thing in the core API's 'stream' handler. */
  onStream(stream: ServerHttp2Stream): void;
  /** First thing in the compat API's 'request' handler. */
  onRequest(req: Http2ServerRequest, res: Http2ServerResponse): void;
  tracked(): number;
}

const ignore = (): void => {};

export function createH2Mode(name: H2ModeName): H2Mode {
  switch (name) {
    case 'bare':
    case 'bare-control':
      return { attach: ignore, onStream: ignore, onRequest: ignore, tracked: () => 0 };
    case 'handwritten': {
      const live = new Map<number, ServerHttp2Stream>();
      let seq = 0;
      const watch = (stream: ServerHttp2Stream) => {
        const id = ++seq;
        live.set(id, stream);
        stream.once('close', () => void live.delete(id));
      };
      return { attach: ignore, onStream: watch, onRequest: (_req, res) => watch(res.stream), tracked: () => live.size };
    }
    case 'lifeline-instrument':
    case 'lifeline-instrument-journal8': {
      let size = () => 0;
      return {
        attach(server) {
          const { registry } = name === 'lifeline-instrument' ? instrument(server, { journalSize: 0 }) : instrument(server);
          size = () => registry.size;
        },
        onStream: ignore,
        onRequest: ignore,
        tracked: () => size(),
      };
    }
    case 'lifeline-track': {
      const registry = createRegistry({ journalSize: 0 });
      return {
        attach: ignore,
        onStream: (stream) => void trackStream(stream, { registry }),
        onRequest: (req, res) => void track(req, res, { registry }),
        tracked: () => registry.size,
      };
    }
  }
}
