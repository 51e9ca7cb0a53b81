// pnpm bench:core — cost per event of the registry's compiled path against
// XState's own interpreter, measured in one run and printed as ratios, plus
// heap bytes per in-flight connection. Run with --expose-gc (the script does).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createActor, initialTransition, setup, transition } from 'xstate';
import { createMachineRegistry, createRegistry, type ConnectionEvent } from '@lifeline/core';
import { compileMachine, connectionMachine } from '@lifeline/core/machine';

const HEADERS: ConnectionEvent = { type: 'HEADERS', status: 200 };
const DATA: ConnectionEvent = { type: 'DATA', bytesSent: 1024 };
const FINISH: ConnectionEvent = { type: 'FINISH', bytesSent: 1024 };
const EVENTS_PER_CONNECTION = 3;
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;

// Each mode gets `n` connections already opened (untimed), then the timed part
// applies the same three events to each: only the per-event path is compared.
type Mode = { prepare: (n: number) => unknown[]; events: (handles: unknown[]) => void };
// Batches of 1,000 in-flight connections: about what a busy server holds, so
// the registry's map stays cache-warm as it would in production.
const BATCH = 1_000;
function nsPerEvent(n: number, mode: Mode): number {
  let elapsed = 0n;
  for (let done = 0; done < n; done += BATCH) {
    const handles = mode.prepare(Math.min(BATCH, n - done));
    const start = process.hrtime.bigint();
    mode.events(handles);
    elapsed += process.hrtime.bigint() - start;
  }
  return Number(elapsed) / (n * EVENTS_PER_CONNECTION);
}

/** The part of a registry the timed loop uses. */
interface Dispatcher {
  readonly size: number;
  open(): number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any registry's events
  dispatch(id: number, event: any): unknown;
}
type EventOfDispatcher<R extends Dispatcher> = Parameters<R['dispatch']>[1];

/**
 * `n` connections opened (untimed, plus `onOpen` for each), then three events each (timed); a fresh
 * registry whenever the last one was not emptied, so every batch starts alike.
 */
function dispatchMode<R extends Dispatcher>(
  create: () => R,
  events: readonly [EventOfDispatcher<R>, EventOfDispatcher<R>, EventOfDispatcher<R>],
  onOpen?: (registry: R, id: number) => void,
): Mode {
  let registry = create();
  const [first, second, last] = events;
  return {
    prepare: (n) => {
      if (registry.size !== 0) registry = create();
      return Array.from({ length: n }, () => {
        const id = registry.open();
        onOpen?.(registry, id);
        return id;
      });
    },
    events: (ids) => {
      for (const id of ids as number[]) {
        registry.dispatch(id, first);
        registry.dispatch(id, second);
        registry.dispatch(id, last);
      }
      if (registry.size !== 0) throw new Error('not all released');
    },
  };
}

const registryMode = (journalSize: number) => dispatchMode(() => createRegistry({ journalSize }), [HEADERS, DATA, FINISH]);

// A custom machine of the same size, through the same registry: queued → running → done | cancelled | failed.
const jobMachine = setup({ types: { events: {} as { type: 'START' } | { type: 'PROGRESS' } | { type: 'COMPLETE' } | { type: 'CANCEL' } } }).createMachine({
  initial: 'queued',
  states: {
    queued: { on: { START: 'running', CANCEL: 'cancelled' } },
    running: { on: { PROGRESS: {}, COMPLETE: 'done', CANCEL: 'cancelled' } },
    done: { type: 'final' },
    cancelled: { type: 'final' },
  },
});
const jobTable = compileMachine(jobMachine, { finalStates: ['done', 'cancelled'] });
const START = { type: 'START' } as const;
const PROGRESS = { type: 'PROGRESS' } as const;
const COMPLETE = { type: 'COMPLETE' } as const;

const jobRegistryMode = (journalSize: number) =>
  dispatchMode(() => createMachineRegistry(jobTable, { journalSize }), [START, PROGRESS, COMPLETE]);

// The same connection events, with a handle (onEnd) on every connection: what a handle costs when used.
let ended = 0;
const handleMode = () =>
  dispatchMode(
    () => createRegistry({ journalSize: 0 }),
    [HEADERS, DATA, FINISH],
    (registry, id) => registry.handle(id)!.onEnd(() => ended++),
  );

const modes = {
  compiled: registryMode(0),
  'compiled+journal(8)': registryMode(8),
  'custom machine (job)': jobRegistryMode(0),
  'custom machine (job)+journal(8)': jobRegistryMode(8),
  'compiled, onEnd on every connection': handleMode(),
  'xstate transition()': {
    prepare: (n) => Array.from({ length: n }, () => initialTransition(connectionMachine)[0]),
    events: (snapshots) => {
      for (let s of snapshots as ReturnType<typeof initialTransition<typeof connectionMachine>>[0][]) {
        [s] = transition(connectionMachine, s, HEADERS);
        [s] = transition(connectionMachine, s, DATA);
        [s] = transition(connectionMachine, s, FINISH);
        if (s.status !== 'done') throw new Error('not done');
      }
    },
  },
  'xstate actor.send': {
    prepare: (n) => Array.from({ length: n }, () => createActor(connectionMachine).start()),
    events: (actors) => {
      for (const actor of actors as ReturnType<typeof createActor<typeof connectionMachine>>[]) {
        actor.send(HEADERS);
        actor.send(DATA);
        actor.send(FINISH);
      }
    },
  },
} satisfies Record<string, Mode>;
const sizes: Record<keyof typeof modes, number> = {
  compiled: 200_000,
  'compiled+journal(8)': 200_000,
  'custom machine (job)': 200_000,
  'custom machine (job)+journal(8)': 200_000,
  'compiled, onEnd on every connection': 100_000,
  'xstate transition()': quick ? 500 : 2_000,
  'xstate actor.send': quick ? 1_000 : 5_000,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The spread of one mode's cost over another's, round by round (rounds are interleaved, so each pair shares its noise). */
function ratioRange(xs: number[], base: number[]): string {
  const ratios = xs.map((x, i) => x / base[i]!).sort((a, b) => a - b);
  return `${ratios[0]!.toFixed(2)}–${ratios[ratios.length - 1]!.toFixed(2)}`;
}
// Warm up every mode, then interleave rounds so drift hits all modes alike.
for (const [name, mode] of Object.entries(modes)) nsPerEvent(Math.min(2_000, sizes[name as keyof typeof modes]), mode);
const samples = Object.fromEntries(Object.keys(modes).map((k) => [k, [] as number[]])) as Record<keyof typeof modes, number[]>;
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, mode] of Object.entries(modes) as [keyof typeof modes, Mode][]) {
    samples[name].push(nsPerEvent(sizes[name], mode));
  }
}

function heapPerEntry(journalSize: number, count = 100_000): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const registry = createRegistry({ journalSize });
  for (let i = 0; i < count; i++) registry.dispatch(registry.open(), HEADERS);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (registry.size !== count) throw new Error('entries were released early');
  return (after - before) / count;
}

const compiled = median(samples.compiled);
const rows = Object.entries(samples).map(([name, xs]) => ({
  mode: name,
  nsPerEvent: Math.round(median(xs) * 10) / 10,
  ratioToCompiled: Math.round((median(xs) / compiled) * 10) / 10,
}));
const heap = { journalOff: Math.round(heapPerEntry(0)), journal8: Math.round(heapPerEntry(8)) };

console.log(`\nLifeline core bench — node ${process.version}, ${ROUNDS} interleaved rounds, median per event (opens untimed; ${EVENTS_PER_CONNECTION} events per connection timed)\n`);
console.log('mode'.padEnd(36) + 'ns/event'.padStart(12) + 'x compiled'.padStart(14));
for (const r of rows) console.log(r.mode.padEnd(36) + String(r.nsPerEvent).padStart(12) + String(r.ratioToCompiled).padStart(14));
const transitionRatio = median(samples['xstate transition()']) / compiled;
console.log(`\ncompiled path is ${Math.round(transitionRatio)}x cheaper per event than transition() (target >= 1000x: ${transitionRatio >= 1000 ? 'met' : 'NOT met'})`);
console.log(`compiled path is ${Math.round(median(samples['xstate actor.send']) / compiled)}x cheaper per event than actor.send`);
const customRatio = median(samples['custom machine (job)']) / compiled;
console.log(
  `custom machine registry (createMachineRegistry, job machine): ${Math.round(median(samples['custom machine (job)']) * 10) / 10} ns/event, ` +
    `${Math.round(customRatio * 100) / 100}x the connection registry's ${Math.round(compiled * 10) / 10} ns/event ` +
    `(per-round ratios ${ratioRange(samples['custom machine (job)'], samples.compiled)})`,
);
console.log(`heap per in-flight entry: ${heap.journalOff} B with the journal off, ${heap.journal8} B with journalSize 8 (one shared event recorded)`);
mkdirSync(new URL('../../../bench-results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../../../bench-results/core.json', import.meta.url),
  JSON.stringify({ node: process.version, rounds: ROUNDS, rows, transitionRatio, customRatio, heap }, null, 2),
);
