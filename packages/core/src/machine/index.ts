export { connectionMachine, type ConnectionOutcome, type ConnectionState } from '../connectionMachine.js';
export { compileMachine, type CompiledMachine, type CompileOptions, type MachineEventOf, type MachineStateOf } from '../compile.js';
export { toMermaid } from '../toMermaid.js';
