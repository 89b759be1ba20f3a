/**
 * The machines depend on nothing in the spec: machines/ imports XState and its own files only. What composes
 * the machines with the system state (the page codec, World, the system actor) lives in spec/.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf } from './support/imports.ts';

const MACHINES = fileURLToPath(new URL('../machines/', import.meta.url));

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
