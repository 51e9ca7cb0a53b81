/** The IPC commands of the load child (loadProcess.ts). */
import type { RawLoadOptions, RawLoadResult } from './rawLoad.js';
import type { H2LoadOptions } from './h2Load.js';

export interface LoadCommands {
  http1: { args: RawLoadOptions; result: RawLoadResult };
  http2: { args: H2LoadOptions; result: RawLoadResult };
  forget: { args: { port: number }; result: Record<string, never> };
}
