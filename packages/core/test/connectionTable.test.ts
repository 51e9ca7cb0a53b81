import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { generateCommand } from '../scripts/generateConnectionTable.js';

// The machine's definition and the generated table are module-level constants: they are loaded afresh inside
// each test, so that a mutation run counts them as covered by these tests, which pin them, and not only by
// whichever test happened to load them first.
const load = async () => {
  vi.resetModules();
  return {
    ...(await import('../scripts/generateConnectionTable.js')),
    ...(await import('../src/compiledMachine.js')),
    ...(await import('../src/connectionTable.generated.js')),
    ...(await import('../src/registry.js')),
  };
};
let loaded: Awaited<ReturnType<typeof load>>;
beforeEach(async () => {
  loaded = await load();
});

describe('the generated connection table is connectionMachine compiled', () => {
  const stale = `src/connectionTable.generated.ts is stale: run \`${generateCommand}\``;

  it('the generated table equals compileMachine(connectionMachine), every array and index', () => {
    const { compileConnectionMachine, connectionTable, tableToData } = loaded;
    const compiled = compileConnectionMachine();
    expect(tableToData(connectionTable), stale).toEqual(tableToData(compiled));
    expect(connectionTable.eventIndex, stale).toEqual(compiled.eventIndex);
    expect(connectionTable.stateIndex, stale).toEqual(compiled.stateIndex);
    expect(connectionTable.final).toBeInstanceOf(Uint8Array);
    expect(connectionTable.next).toBeInstanceOf(Uint8Array);
    expect(connectionTable.handled).toBeInstanceOf(Uint8Array);
  });

  it('the file on disk is exactly what the generator writes today', () => {
    const { generatedTableFile, renderConnectionTable } = loaded;
    expect(readFileSync(generatedTableFile, 'utf8'), stale).toBe(renderConnectionTable());
  });

  it('the registry walks the generated table: open --HEADERS--> streaming --CLOSE--> released as closed', () => {
    const registry = loaded.createRegistry({ journalSize: 0 });
    const id = registry.open();
    expect(registry.dispatch(id, { type: 'HEADERS', status: 200 })).toBe('streaming');
    expect(registry.dispatch(id, { type: 'CLOSE', reason: 'aborted' })).toBe('closed');
    expect(registry.size).toBe(0);
  });
});
