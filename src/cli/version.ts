/**
 * The version, read at run time from the nearest package.json named gmem-spec above this module, so it is the
 * same whether the CLI runs from src/ (through tsx) or from a build under dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function findPackageJson(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown };
        if (pkg.name === 'gmem-spec') return file;
      } catch {
        // an unreadable package.json on the way up is not ours
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function version(): string {
  if (cached !== undefined) return cached;
  const file = findPackageJson(dirname(fileURLToPath(import.meta.url)));
  const v = file ? (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version : undefined;
  cached = typeof v === 'string' ? v : 'unknown (no package.json named gmem-spec above the CLI)';
  return cached;
}
