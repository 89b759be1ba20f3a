/** `lab status`: what the cache holds and what the host offers, gathered (I/O) then formatted (pure). */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDebs } from './aptFetch.ts';
import { type EntryCheck, listEntries } from './cacheEntry.ts';
import { readFragment } from './fragment.ts';
import { LAB_SERIES, extractedTrees } from './kernelBuild.ts';
import { type KvmOffer, classifyKvm, hostKvmReport } from './kvmCaps.ts';
import { type LabLayout, labLayout } from './paths.ts';
import { ACCEL_ENV, chooseAccel, qemuAvailable, readHostVirt } from './qemu.ts';
import { selftestsCached } from './selftests.ts';

export interface LabStatus {
  root: string;
  rootBytes: number | undefined;
  fragmentHash: string;
  kernels: EntryCheck[];
  selftests: { version: string; dir: string }[];
  downloads: { version: string; path: string }[];
  trees: { version: string; dir: string }[];
  host: KvmOffer | { kind: 'unknown'; reason: string };
  qemu: { ok: true; binary: string; version: string } | { ok: false; reason: string };
  accel: { accel: string; why: string };
  /** The pid holding the build lock, when a build is running. */
  building?: number;
}

function duBytes(path: string): number | undefined {
  const r = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  const n = Number((r.stdout ?? '').split('\t')[0]);
  return r.status === 0 && Number.isFinite(n) ? n : undefined;
}

export async function gatherStatus(layout: LabLayout = labLayout()): Promise<LabStatus> {
  const fragment = readFragment();
  const kernels = listEntries(layout.kernelsDir);
  const trees = extractedTrees(layout, LAB_SERIES);
  const versions = new Set([...kernels.flatMap((k) => (k.ok ? [k.entry.version] : [])), ...trees.map((t) => t.version)]);
  const selftests = [...versions].flatMap((v) => {
    const s = selftestsCached(layout, v);
    return s ? [{ version: v, dir: s.dir }] : [];
  });
  let host: LabStatus['host'];
  try {
    host = classifyKvm(await hostKvmReport());
  } catch (e) {
    host = { kind: 'unknown', reason: (e as Error).message };
  }
  const q = qemuAvailable();
  let qemu: LabStatus['qemu'];
  if (q.ok) {
    const v = spawnSync(q.binary, ['--version'], { encoding: 'utf8' });
    qemu = { ok: true, binary: q.binary, version: (v.stdout ?? '').split('\n')[0]?.trim() || 'version unknown' };
  } else qemu = q;
  let rootExists = true;
  try {
    readdirSync(layout.root);
  } catch {
    rootExists = false;
  }
  let building: number | undefined;
  try {
    const pid = Number(readFileSync(join(layout.root, 'build.lock'), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) {
      process.kill(pid, 0);
      building = pid;
    }
  } catch {
    // no build running
  }
  return {
    ...(building !== undefined ? { building } : {}),
    root: layout.root,
    rootBytes: rootExists ? duBytes(layout.root) : undefined,
    fragmentHash: fragment.hash,
    kernels,
    selftests,
    downloads: cachedDebs(layout, LAB_SERIES),
    trees,
    host,
    qemu,
    accel: chooseAccel(readHostVirt(), process.env[ACCEL_ENV]),
  };
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

export function formatStatus(s: LabStatus): string[] {
  const lines: string[] = [];
  lines.push(`cache: ${s.root}${s.rootBytes !== undefined ? ` (${mb(s.rootBytes)})` : ' (empty)'}`);
  lines.push(`  config fragment lab/kernel.config: sha256 ${s.fragmentHash.slice(0, 12)}`);
  if (s.building !== undefined) lines.push(`  a lab build is running (pid ${s.building})`);
  if (s.kernels.length === 0) lines.push('  kernels: none (run `gmem-spec lab build`)');
  for (const k of s.kernels) {
    if (k.ok) {
      const current = k.entry.fragmentHash === s.fragmentHash ? 'current config' : 'an older config';
      lines.push(
        `  kernel ${k.entry.package} ${k.entry.version}, config ${k.entry.fragmentHash.slice(0, 12)} (${current}), bzImage ${mb(k.entry.bzImageSize)}, built ${k.entry.builtAt} in ${k.entry.buildSeconds} s: ${k.bzImage}`,
      );
    } else lines.push(`  BROKEN ${join(k.dir)}: ${k.reason} (the next \`lab build\` ignores it and builds anew)`);
  }
  for (const t of s.selftests) lines.push(`  KVM selftests for ${t.version}: ${t.dir}/bin`);
  for (const d of s.downloads) lines.push(`  download: ${d.path}`);
  for (const t of s.trees) lines.push(`  source tree ${t.version}: ${t.dir}`);
  lines.push(`host: ${s.host.kind}: ${s.host.reason}`);
  lines.push(s.qemu.ok ? `qemu: ${s.qemu.binary} (${s.qemu.version})` : `qemu: ${s.qemu.reason}`);
  lines.push(`lab acceleration: ${s.accel.accel} (${s.accel.why})`);
  return lines;
}
