import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectionMachine } from '../src/connectionMachine.js';
import { toMermaid } from '../src/toMermaid.js';

describe('README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('shows the lifecycle diagram generated from the machine', () => {
    const match = /<!-- lifeline:machine-diagram:start -->\n```mermaid\n([\s\S]*?)\n```\n<!-- lifeline:machine-diagram:end -->/.exec(readme);
    expect(match, 'diagram markers missing from README.md').not.toBeNull();
    expect(match![1]).toBe(toMermaid(connectionMachine));
  });

  it('quick start is exactly two commands', () => {
    const section = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
    const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    expect(commands).toHaveLength(2);
    for (const command of commands) expect(command.split('\n')).toHaveLength(1);
    expect(commands[1]).toMatch(/ test$/);
  });
});
