// Shared code comes through the package's root (a self-reference): this subpath's bundle then uses the
// root's classes and constants instead of carrying copies of them.
import {
  connectionEventTypes,
  createMachineRegistry,
  createRegistry,
  type CompiledMachine,
  type LogRecord,
  type Registry,
  type RegistryOptions,
} from '@lifeline/core';
import { logRecordSchema, machineLogRecordSchema } from './logSchemas.js';
import { restoreOpen, type Restorable } from './restoreOpen.js';

/** A log line that could not be applied as it stands. */
export interface ReplayProblem {
  /** 1-based line number in the input. */
  readonly line: number;
  readonly reason: string;
  /** True when the line was not applied. Gaps in `seq` are reported but change nothing. */
  readonly skipped: boolean;
}

/** The outcome of a replay. */
export interface ReplayResult<M = unknown> {
  /** A registry holding exactly the connections the log leaves in flight, with their states and stats. */
  readonly registry: Registry<M>;
  readonly problems: readonly ReplayProblem[];
  /** Records applied. */
  readonly applied: number;
  /** Clock time of the last applied record, or `undefined` for an empty log. */
  readonly lastAt: number | undefined;
}

/** Options of {@link createReplayer} and {@link replay}: those of the restored registry, minus `clock`. */
export interface ReplayOptions extends Omit<RegistryOptions, 'clock' | 'onRecord' | 'childEnd'> {
  /** The restored registry's clock once the replay is over. Default `Date.now`. */
  clock?: () => number;
  /**
   * The compiled machine whose registry wrote the log (`createMachineRegistry`).
   * Default: the connection machine. Its events are checked for a string `type`
   * and a JSON `detail` only; types the machine does not know count as ignored, as they did live.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any machine's table
  machine?: CompiledMachine<string, string, any, string>;
}

/** An incremental replay: push lines as they arrive (e.g. from `readline`), then read the result. */
export interface Replayer<M = unknown> {
  /** Applies one NDJSON line. Blank lines are skipped; a bad line becomes a problem, never a throw. */
  push(line: string): void;
  result(): ReplayResult<M>;
}

const KNOWN_TYPES = new Set<string>(connectionEventTypes);

/** An event record whose head is sound and whose event has a known type, whatever its other fields. */
function asLenientEventRecord(json: unknown): LogRecord | undefined {
  const r = json as { seq?: unknown; id?: unknown; at?: unknown; kind?: unknown; event?: { type?: unknown } } | null;
  if (r === null || typeof r !== 'object' || r.kind !== 'event') return undefined;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1 || typeof r.id !== 'number' || typeof r.at !== 'number') return undefined;
  if (typeof r.event !== 'object' || r.event === null || !KNOWN_TYPES.has(r.event.type as string)) return undefined;
  return r as LogRecord;
}

function describeZodIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * Starts an incremental replay of a registry's event log (the records
 * `onRecord` produced, one NDJSON line each).
 *
 * @example
 * ```ts
 * const replayer = createReplayer();
 * for await (const line of readline.createInterface({ input: fs.createReadStream('events.ndjson') })) replayer.push(line);
 * const { registry, problems } = replayer.result();
 * ```
 */
export function createReplayer<M = unknown>(options: ReplayOptions = {}): Replayer<M> {
  let replaying = false;
  let now = 0;
  const { machine, ...registryOptions } = options;
  const after = options.clock ?? Date.now;
  const restoredOptions = {
    ...registryOptions,
    journalSize: options.journalSize ?? 0,
    clock: () => (replaying ? now : after()),
  };
  const registry: Registry<M> =
    machine === undefined ? createRegistry<M>(restoredOptions) : (createMachineRegistry(machine, restoredOptions) as unknown as Registry<M>);
  const recordSchema = machine === undefined ? logRecordSchema : machineLogRecordSchema;
  const problems: ReplayProblem[] = [];
  let lineNumber = 0;
  let applied = 0;
  let lastSeq = 0;
  let lastAt: number | undefined;

  const apply = (record: LogRecord): string | undefined => {
    if (record.seq <= lastSeq) return `seq ${record.seq} does not follow ${lastSeq} (duplicate or out-of-order line)`;
    now = record.at;
    replaying = true;
    try {
      if (record.kind === 'event') registry.dispatch(record.id, record.event);
      else if (!(registry as unknown as Restorable<M>)[restoreOpen](record.id, record.transport, record.meta as M, record.at)) {
        return `connection ${record.id} is opened again or out of order`;
      }
    } finally {
      replaying = false;
    }
    return undefined;
  };

  return {
    push(line: string) {
      lineNumber++;
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (error) {
        problems.push({ line: lineNumber, reason: `not JSON: ${(error as Error).message}`, skipped: true });
        return;
      }
      const parsed = recordSchema.safeParse(json);
      let record: LogRecord;
      if (parsed.success) record = parsed.data as LogRecord;
      else {
        // The hot path does not validate, so the live registry applied an event of a known type even with
        // odd fields (an Error instance logged as {}, a fractional byte count). Replay does the same, and says so.
        const lenient = asLenientEventRecord(json);
        const reason = `not a log record: ${describeZodIssues(parsed.error.issues)}`;
        if (lenient === undefined) {
          problems.push({ line: lineNumber, reason, skipped: true });
          return;
        }
        problems.push({ line: lineNumber, reason: `${reason}; applied by its event type, as the live registry did`, skipped: false });
        record = lenient;
      }
      const gapFrom = lastSeq;
      const refused = apply(record);
      if (refused !== undefined) {
        problems.push({ line: lineNumber, reason: refused, skipped: true });
        return;
      }
      if (gapFrom !== 0 && record.seq > gapFrom + 1) {
        problems.push({
          line: lineNumber,
          reason: `seq jumps from ${gapFrom} to ${record.seq}: ${record.seq - gapFrom - 1} record(s) missing`,
          skipped: false,
        });
      }
      lastSeq = record.seq;
      lastAt = record.at;
      applied++;
    },
    result() {
      return { registry, problems: [...problems], applied, lastAt };
    },
  };
}

/**
 * Replays an event log: a pure fold of its records into a fresh registry.
 * Accepts the whole NDJSON text or an iterable of lines. Malformed or invalid
 * lines are reported with their line number and reason; the valid lines around
 * them are still applied.
 *
 * @example
 * ```ts
 * const { registry, problems } = replay(fs.readFileSync('events.ndjson', 'utf8'));
 * registry.list(); // what was in flight when the log ends
 * ```
 */
export function replay<M = unknown>(input: string | Iterable<string>, options: ReplayOptions = {}): ReplayResult<M> {
  const replayer = createReplayer<M>(options);
  const lines = typeof input === 'string' ? input.split(/\r?\n/) : input;
  for (const line of lines) replayer.push(line);
  return replayer.result();
}
