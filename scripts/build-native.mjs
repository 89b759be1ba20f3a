#!/usr/bin/env node
/**
 * Builds the native programs in native/ with the machine's C compiler (`cc`, or $CC) into native/build/.
 * Run by `npm ci` / `npm install` (the `prepare` script) and by `npm run build:native`.
 *
 *   gmem-helper  the linux backend's helper (src/backend/linux.ts), protocol in native/PROTOCOL.md
 *   bench-raw    the raw-syscall baseline for bench/linux-steps.bench.ts
 *
 * A target is rebuilt only when it is older than its source or this script. Exits non-zero, saying why,
 * when the compiler is missing or a build fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const cc = process.env.CC || 'cc';
const cflags = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];

const targets = [
  { out: 'gmem-helper', sources: ['gmem-helper.c'] },
  { out: 'bench-raw', sources: ['bench-raw.c'] },
];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function fail(message) {
  console.error(`native build: ${message}`);
  process.exit(1);
}

if (process.platform !== 'linux') {
  fail(`the native helper talks to /dev/kvm and builds on Linux only (this is ${process.platform})`);
}

const scriptTime = mtime(fileURLToPath(import.meta.url)) ?? 0;
const stale = targets.filter((t) => {
  const outTime = mtime(join(buildDir, t.out));
  if (outTime === undefined) return true;
  return t.sources.some((s) => (mtime(join(nativeDir, s)) ?? Infinity) > outTime) || scriptTime > outTime;
});

if (stale.length === 0) {
  console.log(`native build: up to date (${targets.map((t) => relative(root, join(buildDir, t.out))).join(', ')})`);
  process.exit(0);
}

const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
if (probe.error) {
  fail(
    `C compiler '${cc}' not found (${probe.error.message}). Install one (e.g. apt-get install gcc) or set CC, ` +
      'then run `npm run build:native`.',
  );
}

mkdirSync(buildDir, { recursive: true });
for (const t of stale) {
  const out = join(buildDir, t.out);
  const args = [...cflags, '-o', out, ...t.sources.map((s) => join(nativeDir, s))];
  // Statically linked when libc.a is there: fork+exit of a static binary is about twice as fast (fewer
  // mappings to copy and tear down), and the helper forks once per trace.
  let r = spawnSync(cc, [...args, '-static'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
    fail(`building ${relative(root, out)} failed: ${cc} ${args.map((a) => (a.startsWith(root) ? relative(root, a) : a)).join(' ')}` +
      (r.error ? ` (${r.error.message})` : ` exited with ${r.status}`));
  }
  if (r.stderr) process.stderr.write(r.stderr);
  console.log(`native build: built ${relative(root, out)}`);
}
