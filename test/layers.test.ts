/**
 * The layers of docs/architecture.md, checked on the import graph: the spec (spec/, machines/) depends on no
 * part of src/, and presentation (src/presentation: diagrams, diffs, the report) is a leaf that only the
 * commands and the library entry point use. Suite generation, the checker and the backends do not draw.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, resolvedImport, tsFilesUnder } from './support/imports.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const rel = (p: string): string => relative(ROOT, p);

/** Every import edge `from → to` between files of the repository, for files under `dirs`. */
function edges(dirs: readonly string[]): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const d of dirs) {
    for (const file of tsFilesUnder(`${ROOT}${d}`)) {
      for (const spec of importsOf(file)) {
        const target = resolvedImport(file, spec);
        if (target) out.push({ from: rel(file), to: rel(target) });
      }
    }
  }
  return out;
}

describe('layers', () => {
  it('spec/ and machines/ import nothing from src/', () => {
    const all = edges(['spec', 'machines']);
    expect(all.length).toBeGreaterThan(100); // the scan sees the spec's own imports
    expect(all.filter((e) => e.to.startsWith('src/'))).toEqual([]);
  });

  it('presentation is used by the commands and the library entry point only', () => {
    const all = edges(['src', 'spec', 'machines']);
    const intoPresentation = all.filter((e) => e.to.startsWith('src/presentation/') && !e.from.startsWith('src/presentation/'));
    // The commands draw, so the scan must see them do it.
    expect(intoPresentation.some((e) => e.from.startsWith('src/cli/'))).toBe(true);
    expect(intoPresentation.filter((e) => !e.from.startsWith('src/cli/') && e.from !== 'src/index.ts')).toEqual([]);
  });
});
