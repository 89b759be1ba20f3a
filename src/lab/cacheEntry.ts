/**
 * A finished lab kernel in the cache: kernels/<key>/ holding bzImage, config and entry.json, with COMPLETE
 * written last. The directory is assembled under a temporary name and renamed into place, so a reader
 * sees either no entry or a whole one; an entry that fails its checks (marker missing, bzImage truncated or
 * changed) is reported as broken, never used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const COMPLETE_MARKER = 'COMPLETE';
export const ENTRY_FILE = 'entry.json';

export interface KernelEntry {
  series: string;
  /** The exact Debian package version the tree came from, e.g. 7.3.4-1~bpo13+1. */
  version: string;
  package: string;
  fragmentHash: string;
  bzImageSize: number;
  bzImageSha256: string;
  builtAt: string;
  buildSeconds: number;
}

export type EntryCheck = { ok: true; entry: KernelEntry; dir: string; bzImage: string } | { ok: false; dir: string; reason: string };

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function isEntry(v: unknown): v is KernelEntry {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.series === 'string' &&
    typeof o.version === 'string' &&
    typeof o.package === 'string' &&
    typeof o.fragmentHash === 'string' &&
    typeof o.bzImageSize === 'number' &&
    typeof o.bzImageSha256 === 'string' &&
    typeof o.builtAt === 'string' &&
    typeof o.buildSeconds === 'number'
  );
}

/** Checks one cache entry directory: marker, metadata, and the bzImage's size and hash. */
export function checkEntry(dir: string, opts: { verifyHash?: boolean } = {}): EntryCheck {
  if (!existsSync(join(dir, COMPLETE_MARKER)))
    return { ok: false, dir, reason: `no ${COMPLETE_MARKER} marker (an interrupted or foreign entry)` };
  let entry: unknown;
  try {
    entry = JSON.parse(readFileSync(join(dir, ENTRY_FILE), 'utf8'));
  } catch (e) {
    return { ok: false, dir, reason: `${ENTRY_FILE} unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (!isEntry(entry)) return { ok: false, dir, reason: `${ENTRY_FILE} lacks fields` };
  const bzImage = join(dir, 'bzImage');
  let size: number;
  try {
    size = statSync(bzImage).size;
  } catch {
    return { ok: false, dir, reason: 'bzImage missing' };
  }
  if (size !== entry.bzImageSize)
    return { ok: false, dir, reason: `bzImage is ${size} bytes, ${entry.bzImageSize} expected (truncated or replaced)` };
  if (opts.verifyHash !== false && sha256File(bzImage) !== entry.bzImageSha256)
    return { ok: false, dir, reason: 'bzImage sha256 differs from entry.json (corrupted)' };
  return { ok: true, entry, dir, bzImage };
}

/** Every entry directory under kernels/ (temporary `.partial-*` directories excluded), checked. */
export function listEntries(kernelsDir: string, opts: { verifyHash?: boolean } = {}): EntryCheck[] {
  let names: string[];
  try {
    names = readdirSync(kernelsDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => checkEntry(join(kernelsDir, n), opts));
}

/** The usable kernel for a series and fragment: the most recently built whole entry. */
export function findKernel(kernelsDir: string, series: string, fragmentHash: string): (EntryCheck & { ok: true }) | undefined {
  const good = listEntries(kernelsDir).filter(
    (c): c is EntryCheck & { ok: true } => c.ok && c.entry.series === series && c.entry.fragmentHash === fragmentHash,
  );
  return good.sort((a, b) => b.entry.builtAt.localeCompare(a.entry.builtAt))[0];
}
