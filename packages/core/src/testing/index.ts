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
export { DispatchCommand } from './model-based/DispatchCommand.js';
export { nextModelState, pickId, type ModelledRegistry, type RegistryModel, type RegistryReal } from './model-based/model.js';
export { OpenCommand } from './model-based/OpenCommand.js';
export { SubscribeCommand } from './model-based/SubscribeCommand.js';
export { UnsubscribeCommand } from './model-based/UnsubscribeCommand.js';
export { checkRegistryModel, registryCommands, registryModelSetup, type RegistryModelSetup } from './registryModel.js';
export {
  checkTransportForLeaks,
  clientEndingArbitrary,
  type CheckTransportForLeaksOptions,
  type CheckTransportForLeaksReport,
  type ClientEnding,
  type LeakCheckSubject,
} from './checkTransportForLeaks.js';
