// Shared code comes through the package's root (a self-reference): this subpath's bundle then uses the
// root's classes and constants instead of carrying copies of them.
import {
  createMachineRegistry,
  createRegistry,
  type CompiledMachine,
  type ConnectionEvent,
  type ConnectionId,
  type EventRecord,
  type LogRecord,
  type Registry,
  type RegistryOptions,
} from '@lifeline/core';
import { connectionTable } from './connectionTable.generated.js';
import { logRecordSchema, machineLogRecordSchema } from './logSchemas.js';
import { restoreOpen, type Restorable } from './restoreOpen.js';

/** What a {@link ReplayProblem} is about. */
export type ReplayProblemKind =
  /** The line is not JSON. */
  | 'not-json'
  /** The line is JSON but not a log record. */
  | 'not-a-record'
  /** An event record with odd fields, applied by its type as the live registry did. */
  | 'applied-leniently'
  /** A `seq` at or below the previous one: a duplicate or out-of-order line. */
  | 'out-of-order'
  /** An open record for an id already opened, or below an id already opened. */
  | 'reopened'
  /** Records missing between two lines (`seq` jumps). */
  | 'gap'
  /** The log does not start at `seq` 1: its first records are missing. */
  | 'missing-head'
  /**
   * Events for a connection the live registry had opened, but whose open record is not in the log
   * (cut off with the head, or lost in a gap). One problem per connection, naming its lines.
   */
  | 'never-opened';

/** A log line (or, for `never-opened`, a connection's lines) that could not be applied as it stands. */
export interface ReplayProblem {
  readonly kind: ReplayProblemKind;
  /** 1-based line number in the input: for `never-opened`, the connection's first line. */
  readonly line: number;
  readonly reason: string;
  /** True when the line was not applied. Gaps in `seq` and a missing head are reported but change nothing. */
  readonly skipped: boolean;
  /** `never-opened` only: the connection's id in the live registry. */
  readonly id?: ConnectionId;
  /** `never-opened` only: the lines of its events, the first 10 at most (`events` says how many there are). */
  readonly lines?: readonly number[];
  /** `never-opened` only: how many of its events the log holds (none of them applied). */
  readonly events?: number;
}

/** How many line numbers a `never-opened` problem lists, so that a huge log gives a bounded report. */
const MAX_LINES_PER_CONNECTION = 10;

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

/**
 * The event types that take some non-final state of `table` to a final one: those that can end a connection.
 * (An event a state does not handle leaves it where it is, so only handled ones can lead to a final state.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any machine's table
function endingTypesOf(table: CompiledMachine<string, string, any, string>): ReadonlySet<string> {
  const count = table.events.length;
  const ending = new Set<string>();
  table.states.forEach((_, s) => {
    if (table.final[s] === 1) return;
    table.events.forEach((type, e) => {
      if (table.final[table.next[s * count + e]!] === 1) ending.add(type);
    });
  });
  return ending;
}

/** An event record whose head is sound and whose event has a type of `knownTypes`, whatever its other fields. */
function asLenientEventRecord(json: unknown, knownTypes: ReadonlySet<string>): LogRecord | undefined {
  const r = json as { seq?: unknown; id?: unknown; at?: unknown; kind?: unknown; event?: { type?: unknown } } | null;
  if (r?.kind !== 'event') return undefined;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1 || typeof r.id !== 'number' || typeof r.at !== 'number') return undefined;
  if (typeof r.event !== 'object' || r.event === null || !knownTypes.has(r.event.type as string)) return undefined;
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
  const table = machine ?? connectionTable;
  const knownTypes = new Set<string>(table.events);
  const endingTypes = endingTypesOf(table);
  const problems: ReplayProblem[] = [];
  let lineNumber = 0;
  let applied = 0;
  let lastSeq = 0;
  let lastAt: number | undefined;
  let headMissing = false;
  // Ids are issued 1, 2, 3...: every id below the first one the log opens was opened before the log's first
  // line. Until an open shows up, an event to a small id of a headless log may be either; it waits in `pending`.
  let firstOpened: ConnectionId | undefined;
  const neverOpened = new Map<ConnectionId, NeverOpened>();
  const pending = new Map<ConnectionId, NeverOpened>();

  const withClock = <T>(at: number, run: () => T): T => {
    now = at;
    replaying = true;
    try {
      return run();
    } finally {
      replaying = false;
    }
  };

  /**
   * Where an event to a connection that is not in flight is kept: with those whose open is missing, with the
   * undecided ones, or nowhere (`undefined`: the registry counts it as it did live).
   */
  const orphanageOf = (record: EventRecord): Map<ConnectionId, NeverOpened> | undefined => {
    const id = record.id;
    if (!Number.isSafeInteger(id) || id < 1 || registry.state(id) !== undefined) return undefined;
    if (firstOpened !== undefined) return id < firstOpened ? neverOpened : undefined;
    // Each open takes a seq, so an id at or above this record's seq had not been issued yet: an unknown id.
    return headMissing && id < record.seq ? pending : undefined;
  };

  /** The first open decides the pending events: below its id they lost their open; the others went to unknown ids. */
  const settlePending = (opened: ConnectionId, at: number) => {
    for (const [id, entry] of pending) {
      if (id < opened) neverOpened.set(id, entry);
      else withClock(at, () => { for (let i = 0; i < entry.count; i++) registry.dispatch(id, entry.event); });
    }
    pending.clear();
  };

  return {
    push(line: string) {
      lineNumber++;
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (error) {
        problems.push({ kind: 'not-json', line: lineNumber, reason: `not JSON: ${(error as Error).message}`, skipped: true });
        return;
      }
      const parsed = recordSchema.safeParse(json);
      let record: LogRecord;
      if (parsed.success) record = parsed.data as LogRecord;
      else {
        // The hot path does not validate, so the live registry applied an event of a known type even with
        // odd fields (an Error instance logged as {}, a fractional byte count). Replay does the same, and says so.
        const lenient = asLenientEventRecord(json, knownTypes);
        const reason = `not a log record: ${describeZodIssues(parsed.error.issues)}`;
        if (lenient === undefined) {
          problems.push({ kind: 'not-a-record', line: lineNumber, reason, skipped: true });
          return;
        }
        problems.push({ kind: 'applied-leniently', line: lineNumber, reason: `${reason}; applied by its event type, as the live registry did`, skipped: false });
        record = lenient;
      }
      if (record.seq <= lastSeq) {
        problems.push({ kind: 'out-of-order', line: lineNumber, reason: `seq ${record.seq} does not follow ${lastSeq} (duplicate or out-of-order line)`, skipped: true });
        return;
      }
      // Said once the line is taken: a refused line leaves the gap to be reported at the next one.
      let missing: ReplayProblem | undefined;
      if (lastSeq === 0 && record.seq > 1) {
        missing = {
          kind: 'missing-head',
          line: lineNumber,
          reason: `the log starts at seq ${record.seq}: the ${record.seq - 1} record(s) before it are missing`,
          skipped: false,
        };
      } else if (record.seq > lastSeq + 1) {
        missing = {
          kind: 'gap',
          line: lineNumber,
          reason: `seq jumps from ${lastSeq} to ${record.seq}: ${record.seq - lastSeq - 1} record(s) missing`,
          skipped: false,
        };
      }
      if (missing?.kind === 'missing-head') headMissing = true;
      if (record.kind === 'event') {
        const into = orphanageOf(record);
        if (into !== undefined) {
          if (missing !== undefined) problems.push(missing);
          lastSeq = record.seq;
          const entry = into.get(record.id) ?? { lines: [], count: 0, end: undefined, event: record.event };
          noteEvent(entry, record.event, lineNumber, endingTypes);
          into.set(record.id, entry);
          return;
        }
        withClock(record.at, () => registry.dispatch(record.id, record.event));
      } else {
        // Only an id the live registry could have issued decides them (pending is empty once an open was applied).
        if (Number.isSafeInteger(record.id) && record.id >= 1) settlePending(record.id, record.at);
        const restored = withClock(record.at, () => (registry as unknown as Restorable<M>)[restoreOpen](record.id, record.transport, record.meta as M, record.at));
        if (!restored) {
          problems.push({ kind: 'reopened', line: lineNumber, reason: `connection ${record.id} is opened again or out of order`, skipped: true });
          return;
        }
        firstOpened ??= record.id;
      }
      if (missing !== undefined) problems.push(missing);
      lastSeq = record.seq;
      lastAt = record.at;
      applied++;
    },
    result() {
      // Undecided events at the end: no open ever came to tell, and each id is below the number of records before
      // it, so the live registry could have issued it in the missing head. Reported, since none could be applied.
      const orphans = [...neverOpened, ...pending].map(([id, entry]) => neverOpenedProblem(id, entry, headMissing));
      const all = [...problems, ...orphans].sort((a, b) => a.line - b.line);
      return { registry, problems: all, applied, lastAt };
    },
  };
}

/** What replay keeps of the events of a connection whose open record is not in the log: bounded, whatever the log's size. */
interface NeverOpened {
  /** Its first event: dispatched once per event if the connection turns out to be an unknown id (the registry only counts those). */
  readonly event: ConnectionEvent;
  readonly lines: number[];
  count: number;
  /** The first fact that would have ended it, had it been opened. */
  end: { readonly type: string; readonly line: number } | undefined;
}

function noteEvent(entry: NeverOpened, event: ConnectionEvent, line: number, endingTypes: ReadonlySet<string>): void {
  entry.count++;
  if (entry.lines.length < MAX_LINES_PER_CONNECTION) entry.lines.push(line);
  if (entry.end === undefined && endingTypes.has(event.type)) entry.end = { type: event.type, line };
}

function neverOpenedProblem(id: ConnectionId, entry: NeverOpened, headMissing: boolean): ReplayProblem {
  const where = headMissing ? 'its open record is before the first line (the head of the log is missing)' : 'its open record is missing from the log';
  const more = entry.count > entry.lines.length ? ` and ${entry.count - entry.lines.length} more` : '';
  const ending = entry.end === undefined ? 'none of them ends it' : `it ended with ${entry.end.type} at line ${entry.end.line}`;
  return {
    kind: 'never-opened',
    line: entry.lines[0]!,
    reason:
      `connection ${id} was never opened in this log (${where}): ` +
      `its ${entry.count} event(s) were not applied, at line(s) ${entry.lines.join(', ')}${more}; ${ending}`,
    skipped: true,
    id,
    lines: [...entry.lines],
    events: entry.count,
  };
}

/**
 * Replays an event log: a pure fold of its records into a fresh registry.
 * Accepts the whole NDJSON text or an iterable of lines. Malformed or invalid
 * lines are reported with their line number and reason; the valid lines around
 * them are still applied. Events for a connection whose open record is not in
 * the log (a log whose head was cut off) cannot be applied: they are reported
 * as one `never-opened` problem per connection, naming its lines, and are not
 * counted as late events (those come after a release the log shows).
 *
 * @example
 * ```ts
 * const { registry, problems } = replay(fs.readFileSync('events.ndjson', 'utf8'));
 * registry.list(); // what was in flight when the log ends
 * problems.filter((p) => p.kind === 'never-opened'); // connections opened before the log's first line
 * ```
 */
export function replay<M = unknown>(input: string | Iterable<string>, options: ReplayOptions = {}): ReplayResult<M> {
  const replayer = createReplayer<M>(options);
  const lines = typeof input === 'string' ? input.split(/\r?\n/) : input;
  for (const line of lines) replayer.push(line);
  return replayer.result();
}
