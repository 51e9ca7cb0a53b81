import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('the core imports nothing from Node and arms no timers of its own: it runs in any JavaScript runtime', () => {
  const files = sources(new URL('../src', import.meta.url).pathname);
  it('has sources to check', () => expect(files.length).toBeGreaterThan(5));
  it.each(files.map((f) => [f.split('/src/')[1], f]))('%s imports nothing from node:, timers or the process', (name, file) => {
    const text = readFileSync(file!, 'utf8');
    expect(text).not.toMatch(/from ['"]node:/);
    // The testing helpers run inside a test runner and wait for a transport to settle: timers are theirs alone.
    expect(text).not.toMatch(name!.startsWith('testing/') ? /\b(setInterval|process\.)/ : /\b(setTimeout|setInterval|process\.)/);
  });
  it.each(['index.ts', 'machine/index.ts', 'schemas/index.ts', 'replay/index.ts', 'testing/index.ts'])('src/%s is nothing but named re-exports', (entry) => {
    const text = readFileSync(new URL(`../src/${entry}`, import.meta.url), 'utf8');
    for (const statement of text.split(/;\s*\n/).filter((s) => s.trim() !== '')) {
      expect(statement.trim()).toMatch(/^export (type )?\{[\s\S]*\} from '\.\.?\/[\w/.-]+\.js'$/);
    }
  });
});
