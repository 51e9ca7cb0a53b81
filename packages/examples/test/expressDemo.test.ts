import { describe, expect, it } from 'vitest';
import { runExpress, runExpressDemo, withServedFile, type ExpressRun } from '../src/expressDemo.js';

describe('Express 5 with express.static and morgan: stock on-finished vs the drop-in', () => {
  it('with the drop-in no served file stays open and morgan logs every request; stock on-finished leaks the queued pipelined ones', async () => {
    const runs = await runExpressDemo({ sockets: 10, pipelined: 3, leaveAfter: 100 * 1024, fileBytes: 5 * 1024 * 1024 });
    const run = (variant: ExpressRun['variant'], load: ExpressRun['load']) => runs.find((r) => r.variant === variant && r.load === load)!;

    // The override really took: express's require('on-finished') loads the drop-in in one process only.
    for (const load of ['pipelined', 'aborts'] as const) {
      expect(run('stock', load).onFinished).toMatch(/on-finished@2\.4\.1/);
      expect(run('drop-in', load).onFinished).toMatch(/packages\/on-finished\/index\.cjs$/);
    }

    // Pipelined batches whose socket dies mid-body: per socket, the active response ends (its socket closes),
    // the two queued behind it never do under stock on-finished (it waits for a 'socket' event that never
    // comes, on every Node version), so send never destroys their file streams and morgan never logs them.
    expect(run('stock', 'pipelined')).toMatchObject({ requests: 30, morganLines: 10, openServedFiles: 20 });
    expect(run('drop-in', 'pipelined')).toMatchObject({ requests: 30, morganLines: 30, openServedFiles: 0 });

    // Ordinary mid-body aborts, one request per socket: both are right.
    expect(run('stock', 'aborts')).toMatchObject({ requests: 10, morganLines: 10, openServedFiles: 0 });
    expect(run('drop-in', 'aborts')).toMatchObject({ requests: 10, morganLines: 10, openServedFiles: 0 });
  }, 180_000);
});

describe('Express with the drop-in and instrument(app.listen())', () => {
  it('every request has its connection in the first middleware and is released once in the application registry, with nothing left open', async () => {
    const run = await withServedFile(5 * 1024 * 1024, (dir) => runExpress('drop-in', 'pipelined', dir, { instrument: true }));
    expect(run).toMatchObject({ requests: 30, morganLines: 30, openServedFiles: 0 });
    expect(run.registry).toMatchObject({ opened: 30, inFlight: 0, withConnection: 30 });
    const { finished, closed, errored } = run.registry!.released;
    expect(finished + closed + errored).toBe(30);
    // Every request was cut off mid-body or never got its turn: none of them finished.
    expect(finished).toBe(0);
  }, 120_000);
});
