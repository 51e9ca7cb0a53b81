import type { AnyStateMachine } from 'xstate';
import { compileMachine } from './compile.js';

/**
 * Draws a flat machine as a Mermaid `stateDiagram-v2`, derived from its
 * compiled table: one arrow per (from, to) pair labelled with the event types
 * that take it, self-loops included; unhandled events are not drawn.
 *
 * @example
 * ```ts
 * console.log(toMermaid(connectionMachine)); // paste into any Mermaid renderer
 * ```
 */
export function toMermaid(machine: AnyStateMachine): string {
  const table = compileMachine(machine);
  const E = table.events.length;
  const lines = ['stateDiagram-v2', `  [*] --> ${table.states[table.initial]}`];
  table.states.forEach((from, s) => {
    const byTarget = new Map<number, string[]>();
    table.events.forEach((type, e) => {
      if (table.handled[s * E + e] !== 1) return;
      const to = table.next[s * E + e]!;
      byTarget.set(to, [...(byTarget.get(to) ?? []), type]);
    });
    for (const [to, types] of byTarget) lines.push(`  ${from} --> ${table.states[to]}: ${types.join(', ')}`);
  });
  table.states.forEach((name, s) => {
    if (table.final[s] === 1) lines.push(`  ${name} --> [*]`);
  });
  return lines.join('\n');
}
