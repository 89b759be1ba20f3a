/**
 * The machines depend on nothing in the spec: machines/ imports XState and its own files only. What composes
 * the machines with the system state (the page codec, World, the system actor) lives in spec/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MACHINES = fileURLToPath(new URL('../machines/', import.meta.url));

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const specifiers = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(specifiers)) out.push((m[1] ?? m[2]) as string);
  return out;
}

describe('machines/ stands alone', () => {
  it('every import of every machine file is XState or another file of machines/', () => {
    const files = readdirSync(MACHINES).filter((f) => f.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining(['page.ts', 'guestMemfd.ts', 'vm.ts', 'bridge.ts']));
    const outside: string[] = [];
    let imports = 0;
    for (const f of files) {
      for (const spec of importsOf(join(MACHINES, f))) {
        imports++;
        if (!spec.startsWith('.')) {
          if (spec !== 'xstate') outside.push(`${f}: ${spec}`);
          continue;
        }
        const target = resolve(dirname(join(MACHINES, f)), spec);
        if (relative(MACHINES, target).startsWith('..')) outside.push(`${f}: ${spec}`);
      }
    }
    // Every machine file imports XState at least: the scan sees them.
    expect(imports).toBeGreaterThanOrEqual(files.length);
    expect(outside).toEqual([]);
  });
});
