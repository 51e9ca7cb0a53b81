export {
  connectionEventArbitrary,
  errorInfoArbitrary,
  eventSequenceArbitrary,
  expectedOutcome,
  progressEventArbitrary,
  registryScriptArbitrary,
  terminalEventArbitrary,
  transportArbitrary,
  type EventSequenceOptions,
  type RegistryStep,
} from './arbitraries.js';
export { runRegistryScript, type ScriptTarget } from './runRegistryScript.js';
