#!/usr/bin/env node
/**
 * What `npm pack` would put in the tarball: file count and sizes, in total and by top-level folder
 * (`npm run pack-stats`). Builds dist/ first (skipped when up to date), then asks npm itself
 * (`npm pack --dry-run --json`), so the figures are the packer's, not a re-implementation of `files`.
 *
 *   --json    print the figures as JSON instead
 *   --write   also rewrite the figures quoted in README.md (between the pack-stats markers)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
    console.error(`pack-stats: ${cmd} ${args.join(' ')} failed (${r.error ? r.error.message : `exit ${r.status}`})`);
    process.exit(1);
  }
  return r.stdout;
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
// --ignore-scripts: the build above already ran, and lifecycle output would corrupt the JSON on stdout.
const [pack] = JSON.parse(run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts']));
const byFolder = new Map();
for (const f of pack.files) {
  const top = f.path.includes('/') ? `${f.path.split('/')[0]}/` : f.path;
  const e = byFolder.get(top) ?? { files: 0, bytes: 0 };
  e.files += 1;
  e.bytes += f.size;
  byFolder.set(top, e);
}
const stats = {
  filename: pack.filename,
  files: pack.entryCount,
  packedBytes: pack.size,
  unpackedBytes: pack.unpackedSize,
  byFolder: Object.fromEntries([...byFolder].sort((a, b) => b[1].files - a[1].files)),
};

const summary = `${stats.files} files, ${mb(stats.packedBytes)} packed (${mb(stats.unpackedBytes)} unpacked)`;
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(stats, null, 2));
} else {
  console.log(`${stats.filename}: ${summary}`);
  for (const [folder, e] of Object.entries(stats.byFolder))
    console.log(`  ${folder.padEnd(12)} ${String(e.files).padStart(4)} files  ${mb(e.bytes).padStart(8)}`);
}

if (process.argv.includes('--write')) {
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const marker = /(<!-- pack-stats -->)[\s\S]*?(<!-- \/pack-stats -->)/;
  if (!marker.test(text)) {
    console.error('pack-stats: README.md has no <!-- pack-stats --> ... <!-- /pack-stats --> markers to write between');
    process.exit(1);
  }
  const tmp = `${readme}.tmp-${process.pid}`;
  writeFileSync(tmp, text.replace(marker, `$1${summary}$2`));
  renameSync(tmp, readme);
  console.log('pack-stats: README.md updated');
}
