/**
 * The native programs the lab backend puts into the VM besides the static helper that `npm ci` builds:
 * native/lab-relay.c (static), and, for `--preload`, a dynamically linked gmem-helper (an LD_PRELOAD shim
 * only works on a dynamic executable). Built on first use into native/build/, again when a source is newer;
 * written to a temporary name and renamed, so a concurrent or interrupted build never leaves half a binary.
 */
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../../installation.ts';

const NATIVE = packagePath('native');
const BUILD = join(NATIVE, 'build');
/** The flags of scripts/build-native.mjs. */
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];

export class NativeBuildError extends Error {}

interface Target {
  out: string;
  source: string;
  /** `static-preferred`: static when libc.a is there, else dynamic (the lab copies its libraries in). */
  link: 'static-preferred' | 'dynamic';
}

export const RELAY: Target = { out: 'lab-relay', source: 'lab-relay.c', link: 'static-preferred' };
export const DYNAMIC_HELPER: Target = { out: 'gmem-helper-dynamic', source: 'gmem-helper.c', link: 'dynamic' };

const mtime = (p: string): number | undefined => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
};

/** The built program's path, compiling it first when it is missing or older than its source. */
export function ensureNative(t: Target): string {
  const out = join(BUILD, t.out);
  const src = join(NATIVE, t.source);
  const built = mtime(out);
  const source = mtime(src);
  if (source === undefined) throw new NativeBuildError(`cannot build ${out}: ${src} is missing`);
  if (built !== undefined && built >= source) return out;
  const cc = process.env.CC || 'cc';
  const tmp = `${out}.tmp-${process.pid}`;
  const args = [...CFLAGS, '-o', tmp, src];
  let r = t.link === 'static-preferred' ? spawnSync(cc, [...args, '-static'], { encoding: 'utf8' }) : undefined;
  if (!r || r.error || r.status !== 0) r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`);
    throw new NativeBuildError(`cannot build ${out} (${t.link}): ${cc} ${args.join(' ')}: ${why}`);
  }
  renameSync(tmp, out);
  return out;
}
