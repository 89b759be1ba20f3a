#!/usr/bin/env node
/**
 * Builds the native programs in native/ with the machine's C compiler (`cc`, or $CC) into native/build/.
 * Run by `npm ci` / `npm install` (the `install` script: in a checkout, and in an installed package when npm
 * runs its install script) and by `npm run build:native`.
 *
 *   gmem-helper  the linux backend's helper (src/backend/linux.ts), protocol in native/PROTOCOL.md
 *   bench-raw    the raw-syscall baseline for bench/linux-steps.bench.ts (a checkout only: its source does
 *                not ship in the package)
 *
 * A target is rebuilt only when it is older than its source or this script.
 *
 *   node scripts/build-native.mjs              exits 1, saying why, when the compiler is missing or a build fails
 *   node scripts/build-native.mjs --optional   the same, but exits 0 (a failed native build must not fail
 *                                              `npm install`: the reference backend and the model need no C)
 *
 * Either way the outcome is left for the backend to report: native/build/BUILD-FAILED.txt holds the reason
 * of the last failed build (first line), and is removed by a successful one (src/installation.ts reads it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const failedFile = join(buildDir, 'BUILD-FAILED.txt');
const cc = process.env.CC || 'cc';
const cflags = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];
const optional = process.argv.includes('--optional');

const targets = [
  { out: 'gmem-helper', sources: ['gmem-helper.c'] },
  { out: 'bench-raw', sources: ['bench-raw.c'], onlyWithSource: true },
].filter((t) => !t.onlyWithSource || t.sources.every((s) => existsSync(join(nativeDir, s))));

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Record why the build failed (temp file + rename: never half-written), say so, and stop. */
function fail(message) {
  mkdirSync(buildDir, { recursive: true });
  const tmp = `${failedFile}.tmp-${process.pid}`;
  writeFileSync(tmp, `${message}\nwritten by scripts/build-native.mjs on ${new Date().toISOString()}\n`);
  renameSync(tmp, failedFile);
  console.error(`native build: ${message}`);
  console.error(
    `native build: to build it later: node ${relative(process.cwd(), fileURLToPath(import.meta.url)) || fileURLToPath(import.meta.url)}`,
  );
  if (optional) {
    console.error('native build: continuing without the native helper: the linux backend will report itself unavailable with this reason');
    process.exit(0);
  }
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
  rmSync(failedFile, { force: true });
  console.log(`native build: up to date (${targets.map((t) => relative(root, join(buildDir, t.out))).join(', ')})`);
  process.exit(0);
}

const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
if (probe.error) {
  fail(`C compiler '${cc}' not found (${probe.error.message}): install one (e.g. apt-get install gcc) or set CC`);
}

mkdirSync(buildDir, { recursive: true });
for (const t of stale) {
  const out = join(buildDir, t.out);
  // Built under a temporary name and renamed: an interrupted build never leaves a truncated helper behind.
  const tmp = `${out}.tmp-${process.pid}`;
  const args = [...cflags, '-o', tmp, ...t.sources.map((s) => join(nativeDir, s))];
  // Statically linked when libc.a is there: fork+exit of a static binary is about twice as fast (fewer
  // mappings to copy and tear down), and the helper forks once per trace.
  let r = spawnSync(cc, [...args, '-static'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    process.stderr.write(r.stderr ?? '');
    const shown = args.map((a) => (a === tmp ? relative(root, out) : a.startsWith(root) ? relative(root, a) : a));
    fail(
      `building ${relative(root, out)} failed: ${cc} ${shown.join(' ')}${r.error ? ` (${r.error.message})` : ` exited with ${r.status}`}`,
    );
  }
  if (r.stderr) process.stderr.write(r.stderr);
  renameSync(tmp, out);
  console.log(`native build: built ${relative(root, out)}`);
}
rmSync(failedFile, { force: true });
