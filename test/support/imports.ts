/** The relative and package imports of a source file, resolved: what the layer tests scan. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Every specifier a file imports or re-exports (static and dynamic). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const specifiers = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(specifiers)) out.push((m[1] ?? m[2]) as string);
  return out;
}

/** Every .ts file under `dir`, recursively. */
export function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The absolute path a relative specifier of `file` points at (undefined for a package import). */
export function resolvedImport(file: string, spec: string): string | undefined {
  return spec.startsWith('.') ? resolve(dirname(file), spec) : undefined;
}
