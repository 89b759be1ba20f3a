/**
 * Writing generated suites to disk, and checking that what is committed is what the generator makes today
 * (CI's "regenerate and compare" guard): every file byte for byte, and no file left over.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../files.ts';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Write `files` under `dir`, removing files there that the generator no longer makes. */
export function writeSuite(dir: string, files: ReadonlyMap<string, string>): { written: number; removed: string[] } {
  const removed: string[] = [];
  for (const f of listFiles(dir)) {
    if (!files.has(f)) {
      rmSync(join(dir, f));
      removed.push(f);
    }
  }
  let written = 0;
  for (const [f, text] of files) {
    const p = join(dir, f);
    if (existsSync(p) && readFileSync(p, 'utf8') === text) continue;
    // Whole or not at all: a crash or a kill mid-suite leaves every file either old or new, never cut short.
    writeFileAtomic(p, text);
    written++;
  }
  // Remove directories left empty.
  const prune = (d: string): boolean => {
    if (!existsSync(d)) return true;
    let empty = true;
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory() && prune(p)) rmSync(p, { recursive: true });
      else empty = false;
    }
    return empty;
  };
  prune(dir);
  return { written, removed };
}

export interface SuiteDiff {
  missing: string[];
  extra: string[];
  changed: string[];
}

/** What differs between the committed directory and the generated files. */
export function diffSuite(dir: string, files: ReadonlyMap<string, string>): SuiteDiff {
  const onDisk = new Set(listFiles(dir));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [f, text] of files) {
    if (!onDisk.has(f)) missing.push(f);
    else if (readFileSync(join(dir, f), 'utf8') !== text) changed.push(f);
  }
  const extra = [...onDisk].filter((f) => !files.has(f));
  return { missing, extra, changed };
}

export function diffEmpty(d: SuiteDiff): boolean {
  return !d.missing.length && !d.extra.length && !d.changed.length;
}
