export { connectionMachine, type ConnectionOutcome, type ConnectionState } from '../connectionMachine.js';
export { compileMachine, type CompiledMachine, type CompileOptions } from '../compile.js';
export { toMermaid } from '../toMermaid.js';
