#!/usr/bin/env node
/**
 * Builds the package's JavaScript and types into dist/ (`npm run build`; run by `prepare` and `prepack`):
 * `tsc -p tsconfig.build.json` (machines/, spec/, src/ to dist/ with the same layout, imports rewritten from
 * `.ts` to `.js`), then the `.mjs` files tsc does not emit (src/check/worker-entry.mjs).
 *
 *   node scripts/build.mjs           emit only (tsc --noCheck): `npm ci` must not fail on a type error in
 *                                    work in progress; `npm test` type-checks everything anyway
 *   node scripts/build.mjs --check   type-check the shipped sources first and fail on any error (`prepack`:
 *                                    nothing that does not type-check is packed or published)
 *
 * The build goes to a fresh directory that replaces dist/ only when it is complete, so an interrupted or
 * failed build never leaves a half-written or stale dist/ (no JavaScript of a deleted source survives).
 * It is skipped when nothing it reads changed since the last build (npm runs both `prepare` and `prepack`
 * on `npm pack`): the fingerprint of every input's path, size and mtime is kept in
 * node_modules/.cache/gmem-spec/build-stamp, outside what ships.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stampFile = join(root, 'node_modules', '.cache', 'gmem-spec', 'build-stamp');
const SOURCE_DIRS = ['machines', 'spec', 'src'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'];

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const sources = SOURCE_DIRS.flatMap((d) => walk(join(root, d), []));
const inputs = [...sources, ...CONFIG_FILES.map((f) => join(root, f))];
const fingerprint = createHash('sha256');
for (const f of inputs) {
  const s = statSync(f);
  fingerprint.update(`${relative(root, f)}\0${s.size}\0${s.mtimeMs}\n`);
}
const stamp = fingerprint.digest('hex');
const wantCheck = process.argv.includes('--check');
const last = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').split('\n') : [];
const upToDate = existsSync(join(dist, 'src', 'index.js')) && last[0] === stamp;
const checked = upToDate && last[1] === 'checked';

function writeStamp(state) {
  mkdirSync(dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, `${stamp}\n${state}\n`);
}

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('build: the TypeScript compiler is not installed (it is a devDependency: run `npm ci` in a checkout)');
  process.exit(1);
}

if (wantCheck && !checked) {
  const t = performance.now();
  const c = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--noEmit'], { stdio: 'inherit' });
  if (c.status !== 0) {
    console.error(
      `build: the shipped sources do not type-check (tsc -p tsconfig.build.json --noEmit: ${c.error ? c.error.message : `exit ${c.status ?? c.signal}`}); nothing built`,
    );
    process.exit(1);
  }
  console.log(`build: sources type-check (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  if (upToDate) {
    writeStamp('checked');
    console.log('build: dist/ is up to date');
    process.exit(0);
  }
} else if (upToDate) {
  console.log('build: dist/ is up to date');
  process.exit(0);
}

// Leftovers of an interrupted build.
for (const e of readdirSync(root)) if (e.startsWith('dist.partial-')) rmSync(join(root, e), { recursive: true, force: true });

const partial = join(root, `dist.partial-${process.pid}`);
const t0 = performance.now();
// --noCheck: emit only (type errors are the check's and `npm test`'s to report); syntax errors still fail.
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', partial, '--noCheck'], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  rmSync(partial, { recursive: true, force: true });
  console.error(
    `build: tsc -p tsconfig.build.json failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}); dist/ is unchanged`,
  );
  process.exit(1);
}
// Plain JavaScript modules next to the sources (tsc only emits .ts): copied to the same place in dist/.
const copied = sources.filter((f) => f.endsWith('.mjs'));
for (const f of copied) {
  const to = join(partial, relative(root, f));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
}
rmSync(dist, { recursive: true, force: true });
renameSync(partial, dist);
writeStamp(wantCheck ? 'checked' : 'emitted');
const files = walk(dist, []).length;
console.log(`build: dist/ written (${files} files, ${copied.length} copied .mjs) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
