// The public surface is what each entry of the exports map exports at runtime. Growing it is a decision:
// a name added to an entry fails here until it is added to the list below on purpose.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const surface: Record<string, readonly string[]> = {
  '@lifeline/core': [
    'InvalidArgumentError',
    'InvalidOptionsError',
    'LifelineError',
    'UncompilableMachineError',
    'closeEventSchema',
    'closeReasons',
    'compileMachine',
    'connectionEventSchema',
    'connectionEventTypes',
    'connectionMachine',
    'createRegistry',
    'createReplayer',
    'dataEventSchema',
    'errorEventSchema',
    'errorInfoSchema',
    'errorReasons',
    'eventRecordSchema',
    'finishEventSchema',
    'headersEventSchema',
    'logRecordSchema',
    'openRecordSchema',
    'replay',
    'requestEndEventSchema',
    'toErrorInfo',
    'toMermaid',
    'toNdjsonLine',
  ],
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
  '@lifeline/core/internal': ['brandErrorClass', 'functionOption', 'parseOptions'],
};

const entries: Record<string, () => Promise<object>> = {
  '@lifeline/core': () => import('@lifeline/core'),
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
