// The public surface is what each entry of the exports map exports at runtime. Growing it is a decision:
// a name added to an entry fails here until it is added to the list below on purpose.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const surface: Record<string, readonly string[]> = {
  '@lifeline/core': [
    'ConnectionEndedError',
    'InvalidArgumentError',
    'InvalidOptionsError',
    'LeakError',
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
    'DispatchCommand',
    'OpenCommand',
    'SubscribeCommand',
    'UnsubscribeCommand',
    'checkRegistryModel',
    'checkTransportForLeaks',
    'clientEndingArbitrary',
    'connectionEventArbitrary',
    'errorInfoArbitrary',
    'eventSequenceArbitrary',
    'expectedOutcome',
    'nextModelState',
    'pickId',
    'progressEventArbitrary',
    'registryCommands',
    'registryModelSetup',
    'registryScriptArbitrary',
    'runRegistryScript',
    'terminalEventArbitrary',
    'transportArbitrary',
  ],
  // For the other Lifeline packages only; documented as such in the module.
  '@lifeline/core/internal': ['RunLeak', 'bindToCaller', 'brandErrorClass', 'checkOptions', 'clientRuns', 'connectionTable', 'option', 'plural', 'registryOptionRules', 'runLeakCheck', 'settled'],
};

// Loaded while the file is collected, not inside a test. These tests look at export names only; had they
// loaded the modules themselves, a mutation run would count every module's top-level code (option rules,
// the machine, the schemas) as covered by them and test those mutants against them alone.
const entries: Record<string, object> = {
  '@lifeline/core': await import('@lifeline/core'),
  '@lifeline/core/machine': await import('@lifeline/core/machine'),
  '@lifeline/core/schemas': await import('@lifeline/core/schemas'),
  '@lifeline/core/replay': await import('@lifeline/core/replay'),
  '@lifeline/core/testing': await import('@lifeline/core/testing'),
  '@lifeline/core/internal': await import('@lifeline/core/internal'),
};

describe('the public surface of @lifeline/core is exactly the allowed one', () => {
  it('the exports map declares exactly the entries listed here', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).map((key) => (key === '.' ? '@lifeline/core' : `@lifeline/core/${key.slice(2)}`))).toEqual(Object.keys(surface));
  });

  for (const [entry, names] of Object.entries(surface)) {
    it(`${entry} exports exactly its allowed names`, () => {
      expect(Object.keys(entries[entry]!).sort()).toEqual([...names].sort());
    });
  }
});
