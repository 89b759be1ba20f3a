/**
 * The committed kernel config fragment (lab/kernel.config): where it is, its hash (part of the cache key),
 * and the check that every option it asks for survived `make olddefconfig` (a dependency that is not met
 * drops an option silently, and 7.3 renamed or removed a few that older recipes list).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { packagePath } from '../installation.ts';

/** The lab directory of this checkout or installed package: the config fragment and the guest init script. */
export function labAssetPath(name: string): string {
  return packagePath('lab', name);
}

export const FRAGMENT_FILE = 'kernel.config';

/** A config option's value as .config writes it: `y`, `m`, a number or quoted string, or `n` for "is not set". */
export type ConfigValues = Map<string, string>;

export class ConfigTextError extends Error {}

/** Parses .config syntax (`CONFIG_X=v`, `# CONFIG_X is not set`, other comments, blank lines). */
export function parseConfig(text: string, where: string): ConfigValues {
  const values: ConfigValues = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) {
      values.set(unset[1] as string, 'n');
      return;
    }
    if (line.startsWith('#')) return;
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!set) throw new ConfigTextError(`${where}:${i + 1}: not a config line: ${JSON.stringify(raw)}`);
    values.set(set[1] as string, set[2] as string);
  });
  return values;
}

/** Hex sha256 of the fragment's bytes: any edit (even a comment) makes a new cache key. */
export function fragmentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface Fragment {
  path: string;
  text: string;
  hash: string;
  values: ConfigValues;
}

export function readFragment(path: string = labAssetPath(FRAGMENT_FILE)): Fragment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigTextError(
      `cannot read the lab kernel config fragment ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return { path, text, hash: fragmentHash(text), values: parseConfig(text, path) };
}

export interface ConfigMismatch {
  option: string;
  wanted: string;
  got: string;
}

/** Options of the fragment whose value differs in the final .config (absent counts as `n`). */
export function configMismatches(fragment: ConfigValues, final: ConfigValues): ConfigMismatch[] {
  const out: ConfigMismatch[] = [];
  for (const [option, wanted] of fragment) {
    const got = final.get(option) ?? 'n';
    if (got !== wanted) out.push({ option, wanted, got });
  }
  return out;
}
