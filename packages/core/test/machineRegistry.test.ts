import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { InvalidArgumentError, InvalidOptionsError } from '../src/errors.js';
import { toNdjsonLine, type LogRecord } from '../src/log.js';
import { createMachineRegistry, type ReleasedConnection } from '../src/registry.js';
import { replay } from '../src/replay.js';
import { jobEventTypes, jobMachine, jobTable, type JobEvent } from './jobMachine.js';

type Job = ReturnType<typeof createMachineRegistry<typeof jobTable, { queue: string }>>;
type JobOutcome = (typeof jobTable.finalStates)[number];

const jobEventArbitrary: fc.Arbitrary<JobEvent> = fc.oneof(
  fc.record({ type: fc.constant('START' as const), worker: fc.nat(8) }),
  fc.record({ type: fc.constant('PROGRESS' as const), percent: fc.nat(100) }),
  fc.constant({ type: 'COMPLETE' as const }),
  fc.constant({ type: 'CANCEL' as const }),
  fc.constant({ type: 'FAIL' as const }),
);

type Step =
  | { kind: 'open'; queue: string }
  | { kind: 'dispatch'; target: number; event: JobEvent }
  | { kind: 'dispatch-unknown'; id: number; event: JobEvent };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('open' as const), queue: fc.constantFrom('images', 'mail') }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('dispatch' as const), target: fc.nat(), event: jobEventArbitrary }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dispatch-unknown' as const), id: fc.integer({ min: 10_000, max: 20_000 }), event: jobEventArbitrary }) },
);

/** Runs `steps`; the model (when asked for) walks XState's own `transition`, never the registry's table. */
function run(steps: readonly Step[], withModel = true) {
  let now = 0;
  const jobs: Job = createMachineRegistry<typeof jobTable, { queue: string }>(jobTable, { clock: () => now, journalSize: 4 });
  const releases: { id: number; outcome: JobOutcome; eventIndex: number }[] = [];
  let stepIndex = -1;
  jobs.onRelease((job) => releases.push({ id: job.id, outcome: job.outcome, eventIndex: stepIndex }));
  const opened: number[] = [];
  const model = new Map<number, SnapshotFrom<typeof jobMachine>>();
  const expectedReleases: { id: number; outcome: string; eventIndex: number }[] = [];
  steps.forEach((step, i) => {
    stepIndex = i;
    now += 1;
    if (step.kind === 'open') {
      const id = jobs.open({ meta: { queue: step.queue } });
      opened.push(id);
      if (withModel) model.set(id, initialTransition(jobMachine)[0]);
    } else if (step.kind === 'dispatch' && opened.length > 0) {
      const id = opened[step.target % opened.length]!;
      jobs.dispatch(id, step.event);
      if (!withModel) return;
      const before = model.get(id);
      if (before === undefined || before.status === 'done') return;
      const [after] = transition(jobMachine, before, step.event);
      model.set(id, after);
      if (after.status === 'done') expectedReleases.push({ id, outcome: after.value as string, eventIndex: i });
    } else if (step.kind === 'dispatch-unknown') {
      jobs.dispatch(step.id, step.event);
    }
  });
  return { jobs, releases, expectedReleases, opened, model };
}

describe('a registry of a custom machine (queued → running → done | cancelled | failed)', () => {
  it('releases every opened job exactly once, at the first event that takes it into a final state, with that state as outcome, and keeps the others in the state the machine is in', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 40 }), (steps) => {
        const { jobs, releases, expectedReleases, opened, model } = run(steps);
        expect(releases).toEqual(expectedReleases);
        for (const id of opened) {
          const snapshot = model.get(id)!;
          expect(jobs.state(id)).toBe(snapshot.status === 'done' ? undefined : snapshot.value);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('returns to size 0 once every job still in flight is cancelled', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 60 }), (steps) => {
        const { jobs, opened } = run(steps, false);
        for (const id of opened) jobs.dispatch(id, { type: 'CANCEL' });
        expect(jobs.size).toBe(0);
        expect(jobs.list()).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('stats add up: opened = in flight + releases by outcome, each outcome counts the releases that had it, unknown ids are counted', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 60 }), (steps) => {
        const { jobs, releases, opened } = run(steps, false);
        const stats = jobs.stats();
        const byOutcome = { done: 0, cancelled: 0, failed: 0 };
        for (const r of releases) byOutcome[r.outcome]++;
        expect(stats.released).toEqual(byOutcome);
        expect(stats.opened).toBe(opened.length);
        expect(stats.inFlight + byOutcome.done + byOutcome.cancelled + byOutcome.failed).toBe(stats.opened);
        expect(stats.unknownEvents).toBe(steps.filter((s) => s.kind === 'dispatch-unknown').length);
      }),
      { numRuns: 200 },
    );
  });

  it('reports releases by final state, and counts late, ignored and unknown events', () => {
    const jobs = createMachineRegistry(jobTable);
    const a = jobs.open();
    const b = jobs.open();
    expect(jobs.dispatch(a, { type: 'COMPLETE' })).toBe('queued'); // not handled in queued
    expect(jobs.dispatch(a, { type: 'START', worker: 1 })).toBe('running');
    expect(jobs.dispatch(a, { type: 'COMPLETE' })).toBe('done');
    expect(jobs.dispatch(a, { type: 'FAIL' })).toBeUndefined(); // late
    expect(jobs.dispatch(b, { type: 'FAIL', message: 'disk full' })).toBe('failed');
    expect(jobs.dispatch(99, { type: 'START' })).toBeUndefined(); // unknown
    expect(jobs.dispatch(jobs.open(), { type: 'BOGUS' } as never)).toBe('queued'); // a type the machine lacks
    expect(jobs.stats()).toEqual({
      opened: 3,
      inFlight: 1,
      released: { done: 1, cancelled: 0, failed: 1 },
      lateEvents: 1,
      unknownEvents: 1,
      ignoredEvents: 2,
    });
  });

  it('hands release listeners the outcome, the terminal event with its detail, meta and the journal', () => {
    let now = 100;
    const jobs = createMachineRegistry<typeof jobTable, { queue: string }>(jobTable, { clock: () => now, transport: 'queue' });
    const released: ReleasedConnection<{ queue: string }, JobOutcome, JobEvent>[] = [];
    jobs.onRelease((job) => released.push(job));
    const id = jobs.open({ meta: { queue: 'images' } });
    jobs.dispatch(id, { type: 'START', worker: 2 });
    now = 130;
    jobs.dispatch(id, { type: 'CANCEL', detail: { by: 'user', attempt: 1 } });
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({
      id,
      outcome: 'cancelled',
      state: 'cancelled',
      transport: 'queue',
      meta: { queue: 'images' },
      duration: 30,
      event: { type: 'CANCEL', detail: { by: 'user', attempt: 1 } },
    });
    expect(released[0]!.journal.map((j) => j.event.type)).toEqual(['START', 'CANCEL']);
  });

  it('lists in-flight jobs by state, transport and a meta predicate', () => {
    const jobs = createMachineRegistry<typeof jobTable, { queue: string }>(jobTable);
    const a = jobs.open({ meta: { queue: 'images' } });
    const b = jobs.open({ meta: { queue: 'mail' }, transport: 'cron' });
    const c = jobs.open({ meta: { queue: 'images' } });
    jobs.dispatch(c, { type: 'START' });
    const ids = (list: { id: number }[]) => list.map((j) => j.id);
    expect(ids(jobs.list({ meta: (m) => m?.queue === 'images' }))).toEqual([a, c]);
    expect(ids(jobs.list({ meta: (m) => m?.queue === 'images', state: 'queued' }))).toEqual([a]);
    expect(ids(jobs.list({ transport: 'cron' }))).toEqual([b]);
    expect(jobs.get(b)).toMatchObject({ state: 'queued', transport: 'cron', meta: { queue: 'mail' } });
    expect(jobs.get(a)!.transport).toBe('none');
  });

  it('isolates listeners that throw: the release still happens once and the error is reported', () => {
    const reported: string[] = [];
    const jobs = createMachineRegistry(jobTable, { onListenerError: (_e, context) => reported.push(context.listener) });
    const outcomes: string[] = [];
    jobs.subscribe(() => {
      throw new Error('subscriber');
    });
    jobs.onRelease(() => {
      throw new Error('release');
    });
    jobs.onRelease((job) => outcomes.push(job.outcome));
    const id = jobs.open();
    jobs.dispatch(id, { type: 'CANCEL' });
    expect(outcomes).toEqual(['cancelled']);
    expect(reported).toEqual(['transition', 'release']);
    expect(jobs.size).toBe(0);
  });

  it('writes a log that replays to the same in-flight jobs and stats, detail included', () => {
    let now = 0;
    const lines: string[] = [];
    const records: LogRecord<JobEvent>[] = [];
    const jobs = createMachineRegistry(jobTable, {
      clock: () => ++now,
      onRecord: (record) => {
        records.push(record);
        lines.push(toNdjsonLine(record));
      },
    });
    const a = jobs.open({ meta: { queue: 'images' } });
    const b = jobs.open();
    jobs.dispatch(a, { type: 'START', detail: { host: 'w1', pid: 42, tags: ['gpu'] } });
    jobs.dispatch(b, { type: 'FAIL', detail: { exitCode: 2 } });
    jobs.dispatch(b, { type: 'CANCEL' });
    expect(records[2]).toMatchObject({ kind: 'event', event: { type: 'START', detail: { host: 'w1', pid: 42, tags: ['gpu'] } } });

    const { registry, problems } = replay(lines.join(''), { machine: jobTable });
    expect(problems).toEqual([]);
    expect(registry.list().map((j) => [j.id, j.state, j.meta])).toEqual([[a, 'running', { queue: 'images' }]]);
    expect(registry.stats()).toEqual(jobs.stats());
  });

  it('replay of a custom log reports a line whose event has no type, and applies the others', () => {
    const lines = [
      JSON.stringify({ seq: 1, id: 1, at: 1, kind: 'open', transport: 'none' }),
      JSON.stringify({ seq: 2, id: 1, at: 2, kind: 'event', event: { detail: { x: 1 } } }),
      JSON.stringify({ seq: 3, id: 1, at: 3, kind: 'event', event: { type: 'CANCEL', detail: { reason: 'shutdown' } } }),
    ];
    const { registry, problems } = replay(lines, { machine: jobTable });
    // Line 2 is skipped; line 3 is applied, and the seq gap it leaves is reported too.
    expect(problems.map((p) => [p.line, p.skipped])).toEqual([
      [2, true],
      [3, false],
    ]);
    expect(registry.stats().released).toMatchObject({ cancelled: 1 });
  });

  it('replay of a custom log whose head is cut off says which of the machine\'s own events ended the orphaned job', () => {
    const lines = [
      JSON.stringify({ seq: 3, id: 1, at: 3, kind: 'event', event: { type: 'START' } }),
      JSON.stringify({ seq: 4, id: 1, at: 4, kind: 'event', event: { type: 'COMPLETE' } }),
      JSON.stringify({ seq: 5, id: 2, at: 5, kind: 'open', transport: 'none' }),
    ];
    const { problems } = replay(lines, { machine: jobTable });
    const orphan = problems.find((p) => p.kind === 'never-opened');
    expect(orphan).toMatchObject({ id: 1, lines: [1, 2], events: 2 });
    expect(orphan!.reason).toContain('it ended with COMPLETE at line 2');
  });

  it('replay of a custom log counts as ending only an event that takes a live state to a final one, not one a state ignores', () => {
    // PROGRESS keeps a running job running and a finished one finished; CANCEL ends a running job.
    const lines = [
      JSON.stringify({ seq: 3, id: 1, at: 3, kind: 'event', event: { type: 'PROGRESS', percent: 50 } }),
      JSON.stringify({ seq: 4, id: 1, at: 4, kind: 'event', event: { type: 'CANCEL' } }),
      JSON.stringify({ seq: 5, id: 2, at: 5, kind: 'open', transport: 'none' }),
    ];
    const orphan = replay(lines, { machine: jobTable }).problems.find((p) => p.kind === 'never-opened');
    expect(orphan!.reason).toMatch(/it ended with CANCEL at line 2$/);
  });

  it('replay of a custom log applies an event of the machine with an odd detail by its type, as the live registry did', () => {
    const lines = [
      JSON.stringify({ seq: 1, id: 1, at: 1, kind: 'open', transport: 'none' }),
      JSON.stringify({ seq: 2, id: 1, at: 2, kind: 'event', event: { type: 'START', detail: 5 } }),
      // A connection event is no event of this machine: an odd one is not applied.
      JSON.stringify({ seq: 3, id: 1, at: 3, kind: 'event', event: { type: 'FINISH', detail: 5 } }),
    ];
    const { registry, problems } = replay(lines, { machine: jobTable });
    expect(problems.map((p) => [p.line, p.kind])).toEqual([
      [2, 'applied-leniently'],
      [3, 'not-a-record'],
    ]);
    expect(registry.list().map((j) => [j.id, j.state])).toEqual([[1, 'running']]);
  });
});

describe('createMachineRegistry arguments', () => {
  it('refuses a machine that was not compiled, saying how to fix the call', () => {
    expect(() => createMachineRegistry(jobMachine as never)).toThrow(InvalidArgumentError);
    expect(() => createMachineRegistry(jobMachine as never)).toThrow(/pass compileMachine\(yourMachine\)/);
  });

  it.each([
    [{ journalSize: -1 }, /option "journalSize"/],
    [{ machine: 'jobMachine' }, /unknown option "machine"/],
    [{ childEnd: { type: 'START' } }, /option "childEnd": expected an event that takes every non-final state to a final state/],
    [{ transport: 7 }, /option "transport": expected a string/],
  ])('rejects %j with a message naming the option', (options, message) => {
    expect(() => createMachineRegistry(jobTable, options as never)).toThrow(InvalidOptionsError);
    expect(() => createMachineRegistry(jobTable, options as never)).toThrow(message);
  });

  it('refuses anything but a compiled table (null, undefined, a primitive, a table with one part missing or of the wrong kind), naming "table"', () => {
    const parts = ['states', 'finalStates', 'next', 'final', 'handled', 'eventIndex'] as const;
    const wrongKind = { states: 'abc', finalStates: 'done', next: [0], final: [1], handled: [0], eventIndex: {} };
    const notTables: unknown[] = [null, undefined, 5, 'jobTable'];
    for (const part of parts) {
      const { [part]: _dropped, ...withoutPart } = jobTable;
      notTables.push(withoutPart, { ...jobTable, [part]: wrongKind[part] });
    }
    const refusals = notTables.map((table) => {
      try {
        createMachineRegistry(table as never);
        return 'accepted';
      } catch (error) {
        return error instanceof InvalidArgumentError ? `${error.argument}: ${error.message}` : String(error);
      }
    });
    expect(new Set(refusals)).toEqual(
      new Set(['table: createMachineRegistry: argument "table" must be a compiled machine: pass compileMachine(yourMachine), not the machine itself.']),
    );
    expect(refusals).toHaveLength(4 + 2 * parts.length);
    expect(createMachineRegistry({ ...jobTable }).open()).toBe(1);
  });

  it('an option error names createMachineRegistry and the option, and a childEnd that is no end lists the final states and what it got', () => {
    expect(() => createMachineRegistry(jobTable, { childEnd: { type: 'START' } })).toThrow(
      expect.objectContaining({
        name: 'InvalidOptionsError',
        options: ['childEnd'],
        message:
          'createMachineRegistry: invalid options: option "childEnd": expected an event that takes every non-final state to a final state ' +
          '(done, cancelled, failed), received "START", which does not',
      }),
    );
  });

  it.each([['CANCEL'], [null], [{ detail: 1 }]])('refuses childEnd %j, which is not an event object, saying what it expected', (childEnd) => {
    expect(() => createMachineRegistry(jobTable, { childEnd } as never)).toThrow(
      expect.objectContaining({
        name: 'InvalidOptionsError',
        options: ['childEnd'],
        message: expect.stringMatching(/^createMachineRegistry: invalid options: option "childEnd": expected an event object with a string "type"/),
      }),
    );
  });

  it('every event type of the machine is in the table', () => {
    expect([...jobTable.events].sort()).toEqual([...jobEventTypes].sort());
  });
});
