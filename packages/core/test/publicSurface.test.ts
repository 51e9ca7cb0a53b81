// The public surface is what each entry of the exports map exports at runtime. Growing it is a decision:
// a name added to an entry fails here until it is added to the list below on purpose.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const surface: Record<string, readonly string[]> = {
  '@lifeline/core': [
    'ConnectionEndedError',
    'InvalidArgumentError',
    'InvalidOptionsError',
    'LifelineError',
    'UncompilableMachineError',
    'closeReasons',
    'connectionEventTypes',
    'createMachineRegistry',
    'createRegistry',
    'errorReasons',
    'toErrorInfo',
    'toNdjsonLine',
  ],
  // Loads XState: the machine for those who draw, walk or reuse it.
  '@lifeline/core/machine': ['compileMachine', 'connectionMachine', 'toMermaid'],
  // Loads zod: the schemas of events and log lines, and a zod-based option parser for your own options.
  '@lifeline/core/schemas': [
    'closeEventSchema',
    'connectionEventSchema',
    'dataEventSchema',
    'errorEventSchema',
    'errorInfoSchema',
    'eventDetailSchema',
    'eventRecordSchema',
    'finishEventSchema',
    'functionOption',
    'headersEventSchema',
    'logRecordSchema',
    'machineEventRecordSchema',
    'machineEventSchema',
    'machineLogRecordSchema',
    'openRecordSchema',
    'parseOptions',
    'requestEndEventSchema',
  ],
  '@lifeline/core/replay': ['createReplayer', 'replay'],
  '@lifeline/core/testing': [
    'connectionEventArbitrary',
    'errorInfoArbitrary',
    'eventSequenceArbitrary',
    'expectedOutcome',
    'progressEventArbitrary',
    'registryScriptArbitrary',
    'terminalEventArbitrary',
    'transportArbitrary',
  ],
  // For the other Lifeline packages only; documented as such in the module.
  '@lifeline/core/internal': ['bindToCaller', 'brandErrorClass', 'checkOptions', 'connectionTable', 'option'],
};

const entries: Record<string, () => Promise<object>> = {
  '@lifeline/core': () => import('@lifeline/core'),
  '@lifeline/core/machine': () => import('@lifeline/core/machine'),
  '@lifeline/core/schemas': () => import('@lifeline/core/schemas'),
  '@lifeline/core/replay': () => import('@lifeline/core/replay'),
  '@lifeline/core/testing': () => import('@lifeline/core/testing'),
  '@lifeline/core/internal': () => import('@lifeline/core/internal'),
};

describe('the public surface of @lifeline/core is exactly the allowed one', () => {
  it('the exports map declares exactly the entries listed here', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).map((key) => (key === '.' ? '@lifeline/core' : `@lifeline/core/${key.slice(2)}`))).toEqual(Object.keys(surface));
  });

  for (const [entry, names] of Object.entries(surface)) {
    it(`${entry} exports exactly its allowed names`, async () => {
      expect(Object.keys(await entries[entry]!()).sort()).toEqual([...names].sort());
    });
  }
});
