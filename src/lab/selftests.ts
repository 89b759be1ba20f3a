/**
 * `lab selftests`: the kernel's own KVM selftests for guest_memfd, built statically from the same source
 * tree as the lab kernel, cached beside it, and run in one lab boot with a TAP summary. These are the
 * upstream anchor: the lab is trusted only while they pass.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildLabKernel, type BuildOptions, extractedTrees, LAB_SERIES, LabBuildError, LabInterruptedError } from './kernelBuild.ts';
import { type LabLayout, labLayout, versionDirName } from './paths.ts';
import { lastLines, runCommand } from './proc.ts';
import { silentProgress } from './progress.ts';
import { type TapSummary, parseTap } from './tap.ts';
import { type LabExecResult, labExec } from './vm.ts';

/** The selftests run, as paths under tools/testing/selftests/kvm (the upstream make targets). */
export const LAB_SELFTESTS = [
  'guest_memfd_test',
  'set_memory_region_test',
  'pre_fault_memory_test',
  'vm_types_test',
  'x86/private_mem_conversions_test',
  'x86/private_mem_kvm_exits_test',
] as const;

const COMPLETE = 'COMPLETE';

export interface SelftestBinaries {
  dir: string;
  version: string;
  /** Host path per selftest name (basename). */
  binaries: { name: string; path: string }[];
}

/** The guest-side runner (POSIX sh under busybox): each test's output as TAP comments, then its result line. */
export function selftestRunner(names: readonly string[]): string {
  return [
    '#!/bin/sh',
    '# Runs the KVM selftests one after another; their own output is kept as "# " comment lines.',
    'now() { cut -d" " -f1 /proc/uptime; }',
    'echo "TAP version 13"',
    `echo "1..${names.length}"`,
    'n=0; failed=0',
    `for t in ${names.join(' ')}; do`,
    '  n=$((n+1)); t0=$(now)',
    '  ./$t >/tmp/$t.out 2>&1; code=$?',
    '  secs=$(awk -v a="$t0" -v b="$(now)" "BEGIN { printf \\"%.1f\\", b - a }")',
    '  sed "s/^/# /" /tmp/$t.out',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion in the guest script
    '  if [ $code = 0 ]; then echo "ok $n $t # time=${secs}s"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion in the guest script
    '  elif [ $code = 4 ]; then echo "ok $n $t # SKIP exit=4 time=${secs}s"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion in the guest script
    '  else echo "not ok $n $t # exit=$code time=${secs}s"; failed=1; fi',
    'done',
    'exit $failed',
    '',
  ].join('\n');
}

export function selftestsCached(layout: LabLayout, version: string): SelftestBinaries | undefined {
  const dir = layout.selftestsDir(versionDirName(version));
  if (!existsSync(join(dir, COMPLETE))) return undefined;
  const binaries = LAB_SELFTESTS.map((t) => ({ name: basename(t), path: join(dir, 'bin', basename(t)) }));
  if (!binaries.every((b) => existsSync(b.path))) return undefined;
  return { dir, version, binaries };
}

/** Builds the selftests (after the kernel, whose tree they come from); a second call costs nothing. */
export async function buildSelftests(opts: BuildOptions = {}): Promise<SelftestBinaries> {
  const layout = opts.layout ?? labLayout();
  const progress = opts.progress ?? silentProgress;
  const signal = opts.signal;
  const kernel = await buildLabKernel(opts);
  const cached = selftestsCached(layout, kernel.entry.version);
  if (cached) return cached;
  const tree = extractedTrees(layout, opts.series ?? LAB_SERIES).find((t) => t.version === kernel.entry.version);
  if (!tree)
    throw new LabBuildError(
      `the ${kernel.entry.version} source tree is no longer in ${join(layout.root, 'src')}; remove ${layout.kernelsDir} and run \`gmem-spec lab build\` again`,
    );
  const dir = layout.selftestsDir(versionDirName(tree.version));
  const work = `${dir}.work`;
  const hdr = join(work, 'headers');
  const out = join(work, 'out');
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const run = async (what: string, cmd: string, args: string[]): Promise<void> => {
    const r = await runCommand(cmd, args, { signal, env: { ...process.env, LC_ALL: 'C' } });
    if (signal?.aborted) throw new LabInterruptedError('interrupted');
    if (r.code !== 0) throw new LabBuildError(`${what} failed (exit ${r.code ?? r.signal}): ${lastLines(r.stderr || r.stdout, 3)}`);
  };
  progress({ kind: 'phase', phase: 'selftests', detail: `make headers (${tree.version}) into ${hdr}` });
  await run('make headers', 'make', ['-C', tree.dir, `O=${hdr}`, 'headers']);
  progress({ kind: 'phase', phase: 'selftests', detail: `building ${LAB_SELFTESTS.length} KVM selftests statically into ${out}` });
  await run('building the KVM selftests', 'make', [
    '-C',
    join(tree.dir, 'tools/testing/selftests/kvm'),
    `-j${Math.max(1, opts.jobs ?? 2)}`,
    `OUTPUT=${out}`,
    `KHDR_INCLUDES=-isystem ${join(hdr, 'usr/include')}`,
    'EXTRA_CFLAGS=-static',
    'LDFLAGS=-static -pthread',
    ...LAB_SELFTESTS.map((t) => join(out, t)),
  ]);
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'bin'), { recursive: true });
  for (const t of LAB_SELFTESTS) copyFileSync(join(out, t), join(tmp, 'bin', basename(t)));
  writeFileSync(
    join(tmp, 'selftests.json'),
    `${JSON.stringify({ version: tree.version, tests: LAB_SELFTESTS, buildSeconds: Math.round((Date.now() - t0) / 1000) }, null, 2)}\n`,
  );
  writeFileSync(join(tmp, COMPLETE), new Date().toISOString());
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  progress({ kind: 'done', detail: `selftests built in ${Math.round((Date.now() - t0) / 1000)} s: ${dir}/bin` });
  const done = selftestsCached(layout, tree.version);
  if (!done) throw new LabBuildError(`selftests installed into ${dir} are incomplete`);
  return done;
}

export interface SelftestRun {
  tap: string;
  summary: TapSummary;
  exec: LabExecResult;
}

/** Runs the cached selftests in one lab boot. */
export async function runSelftests(bins: SelftestBinaries, opts: { timeoutMs?: number; kernel?: string } = {}): Promise<SelftestRun> {
  const names = bins.binaries.map((b) => b.name);
  const exec = await labExec({
    files: [...bins.binaries.map((b) => b.path), { as: '/lab/run-selftests', data: selftestRunner(names), mode: 0o755 }],
    program: 'run-selftests',
    timeoutMs: opts.timeoutMs ?? 900_000,
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
  });
  return { tap: exec.stdout, summary: parseTap(exec.stdout), exec };
}
