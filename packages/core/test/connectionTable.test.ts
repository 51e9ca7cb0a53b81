import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileConnectionMachine, generateCommand, generatedTableFile, renderConnectionTable } from '../scripts/generateConnectionTable.js';
import { tableToData } from '../src/compiledMachine.js';
import { connectionTable } from '../src/connectionTable.generated.js';
import { createRegistry } from '../src/registry.js';

describe('the generated connection table is connectionMachine compiled', () => {
  const stale = `src/connectionTable.generated.ts is stale: run \`${generateCommand}\``;

  it('the generated table equals compileMachine(connectionMachine), every array and index', () => {
    const compiled = compileConnectionMachine();
    expect(tableToData(connectionTable), stale).toEqual(tableToData(compiled));
    expect(connectionTable.eventIndex, stale).toEqual(compiled.eventIndex);
    expect(connectionTable.stateIndex, stale).toEqual(compiled.stateIndex);
    expect(connectionTable.final).toBeInstanceOf(Uint8Array);
    expect(connectionTable.next).toBeInstanceOf(Uint8Array);
    expect(connectionTable.handled).toBeInstanceOf(Uint8Array);
  });

  it('the file on disk is exactly what the generator writes today', () => {
    expect(readFileSync(generatedTableFile, 'utf8'), stale).toBe(renderConnectionTable());
  });

  it('the registry walks the generated table: open --HEADERS--> streaming --CLOSE--> released as closed', () => {
    const registry = createRegistry({ journalSize: 0 });
    const id = registry.open();
    expect(registry.dispatch(id, { type: 'HEADERS', status: 200 })).toBe('streaming');
    expect(registry.dispatch(id, { type: 'CLOSE', reason: 'aborted' })).toBe('closed');
    expect(registry.size).toBe(0);
  });
});
