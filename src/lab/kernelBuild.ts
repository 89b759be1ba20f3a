/**
 * `lab build`: from the Debian package to a cached bzImage, resumable at every stage.
 *
 *   1. a whole cache entry for this series and fragment exists -> nothing to do (no network either);
 *   2. otherwise the newest extracted tree of the series is used, else a downloaded .deb is extracted,
 *      else the package is fetched through the private apt configuration;
 *   3. tinyconfig + fragment (merge_config.sh -m) + olddefconfig in the version's O= build directory, and
 *      every fragment option is checked to have survived;
 *   4. `make bzImage` (incremental: an interrupted build resumes where make stopped);
 *   5. the entry is assembled in a temporary directory, COMPLETE written last, and renamed into place.
 */
import { cpus } from 'node:os';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDebs, fetchKernelSource, sourcePackageName } from './aptFetch.ts';
import { COMPLETE_MARKER, ENTRY_FILE, type KernelEntry, findKernel, sha256File } from './cacheEntry.ts';
import { type Fragment, configMismatches, parseConfig, readFragment } from './fragment.ts';
import { withLock } from './lock.ts';
import { type LabLayout, kernelKey, labLayout } from './paths.ts';
import { CommandError, haveProgram, lastLines, runCommand } from './proc.ts';
import { type LabProgress, silentProgress } from './progress.ts';

/** The kernel series the lab builds (a parameter: a new series becomes a new measured profile). */
export const LAB_SERIES = '7.3';

/** `CC` lines of a cold `make bzImage` with lab/kernel.config on 7.3.4 (measured), for the progress bar. */
export const EXPECTED_CC = 1280;

/** Build tools `make tinyconfig bzImage` needs, by the program that shows each is there. */
export const BUILD_TOOLS: readonly { program: string; pkg: string }[] = [
  { program: 'make', pkg: 'make' },
  { program: 'gcc', pkg: 'gcc' },
  { program: 'bc', pkg: 'bc' },
  { program: 'flex', pkg: 'flex' },
  { program: 'bison', pkg: 'bison' },
  { program: 'xz', pkg: 'xz-utils' },
  { program: 'dpkg-deb', pkg: 'dpkg' },
  { program: 'perl', pkg: 'perl' },
];

export class LabBuildError extends Error {}
export class LabInterruptedError extends Error {}

export interface BuildOptions {
  series?: string;
  layout?: LabLayout;
  fragment?: Fragment;
  progress?: LabProgress;
  signal?: AbortSignal;
  /** make -j (default: the number of CPUs). */
  jobs?: number;
}

export interface SourceTree {
  version: string;
  dir: string;
}

const EXTRACTED_MARKER = '.gmem-extracted';

/** The Debian packages missing for a kernel build (empty when it can build). */
export function missingBuildTools(): string[] {
  const missing = BUILD_TOOLS.filter((t) => !haveProgram(t.program)).map((t) => t.pkg);
  // libelf and libssl headers: objtool and the signing tools include them.
  if (!existsSync('/usr/include/gelf.h')) missing.push('libelf-dev');
  if (!existsSync('/usr/include/openssl/ssl.h')) missing.push('libssl-dev');
  return missing;
}

function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LabInterruptedError('interrupted');
}

/** The extracted trees of a series in the cache (each with its marker, so only whole extractions count). */
export function extractedTrees(layout: LabLayout, series: string): SourceTree[] {
  const srcRoot = join(layout.root, 'src');
  let names: string[];
  try {
    names = readdirSync(srcRoot);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    try {
      const m = JSON.parse(readFileSync(join(srcRoot, n, EXTRACTED_MARKER), 'utf8')) as { version?: unknown; package?: unknown };
      if (typeof m.version === 'string' && m.package === sourcePackageName(series)) return [{ version: m.version, dir: join(srcRoot, n) }];
    } catch {
      // not (wholly) extracted
    }
    return [];
  });
}

async function extract(
  layout: LabLayout,
  series: string,
  version: string,
  debPath: string,
  signal: AbortSignal | undefined,
): Promise<SourceTree> {
  const pkg = sourcePackageName(series);
  const dest = layout.srcDir(version);
  const tmp = `${dest}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const script = 'set -o pipefail; dpkg-deb --fsys-tarfile "$1" | tar -xO "./usr/src/$2.tar.xz" | xz -dc -T0 | tar -x -C "$3"';
    const r = await runCommand('bash', ['-c', script, 'extract', debPath, pkg, tmp], { signal });
    checkInterrupted(signal);
    if (r.code !== 0) throw new LabBuildError(`extracting ${debPath} failed: ${lastLines(r.stderr, 2)} (delete it to download again)`);
    const inner = join(tmp, pkg);
    if (!existsSync(join(inner, 'Makefile'))) throw new LabBuildError(`${debPath} holds no ${pkg}.tar.xz kernel tree`);
    writeFileSync(join(inner, EXTRACTED_MARKER), JSON.stringify({ version, package: pkg }));
    renameSync(inner, dest);
    return { version, dir: dest };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function make(
  tree: SourceTree,
  buildDir: string,
  args: string[],
  signal: AbortSignal | undefined,
  onLine?: (l: string) => void,
): Promise<void> {
  const env = { ...process.env, KBUILD_BUILD_USER: 'gmem-spec', KBUILD_BUILD_HOST: 'lab', LC_ALL: 'C' };
  const r = await runCommand('make', ['-C', tree.dir, `O=${buildDir}`, ...args], { env, signal, ...(onLine ? { onLine } : {}) });
  checkInterrupted(signal);
  if (r.code !== 0) throw new LabBuildError(`make ${args.join(' ')} failed (exit ${r.code ?? r.signal}): ${lastLines(r.stderr, 3)}`);
}

async function configure(tree: SourceTree, buildDir: string, fragment: Fragment, signal: AbortSignal | undefined): Promise<void> {
  const stamp = join(buildDir, '.gmem-fragment');
  if (existsSync(join(buildDir, '.config')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === fragment.hash) return;
  mkdirSync(buildDir, { recursive: true });
  rmSync(stamp, { force: true });
  await make(tree, buildDir, ['tinyconfig'], signal);
  const merge = await runCommand(
    join(tree.dir, 'scripts/kconfig/merge_config.sh'),
    ['-m', '-O', buildDir, join(buildDir, '.config'), fragment.path],
    { cwd: tree.dir, signal },
  );
  checkInterrupted(signal);
  if (merge.code !== 0) throw new LabBuildError(`merge_config.sh failed: ${lastLines(merge.stderr || merge.stdout, 3)}`);
  await make(tree, buildDir, ['olddefconfig'], signal);
  const final = parseConfig(readFileSync(join(buildDir, '.config'), 'utf8'), join(buildDir, '.config'));
  const lost = configMismatches(fragment.values, final);
  if (lost.length) {
    throw new LabBuildError(
      `${fragment.path}: ${lost.length} option(s) did not survive olddefconfig on ${tree.version} (unmet dependency or renamed): ${lost.map((m) => `${m.option}=${m.wanted} became ${m.got}`).join(', ')}`,
    );
  }
  writeFileSync(stamp, fragment.hash);
}

function install(layout: LabLayout, key: string, entry: KernelEntry, buildDir: string): string {
  const dest = layout.kernelDir(key);
  const tmp = join(layout.kernelsDir, `.partial-${key}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    copyFileSync(join(buildDir, 'arch/x86/boot/bzImage'), join(tmp, 'bzImage'));
    copyFileSync(join(buildDir, '.config'), join(tmp, 'config'));
    const bz = join(tmp, 'bzImage');
    const full: KernelEntry = { ...entry, bzImageSize: statSync(bz).size, bzImageSha256: sha256File(bz) };
    writeFileSync(join(tmp, ENTRY_FILE), `${JSON.stringify(full, null, 2)}\n`);
    writeFileSync(join(tmp, COMPLETE_MARKER), `${full.builtAt}\n`);
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
    return join(dest, 'bzImage');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface BuiltKernel {
  bzImage: string;
  entry: KernelEntry;
  /** True when the cache already had it. */
  cached: boolean;
}

/** The cached kernel's bzImage for the current fragment, or undefined (nothing is built or fetched). */
export function labKernelPath(opts: { series?: string; layout?: LabLayout } = {}): string | undefined {
  try {
    const fragment = readFragment();
    return findKernel((opts.layout ?? labLayout()).kernelsDir, opts.series ?? LAB_SERIES, fragment.hash)?.bzImage;
  } catch {
    return undefined;
  }
}

export async function buildLabKernel(opts: BuildOptions = {}): Promise<BuiltKernel> {
  const series = opts.series ?? LAB_SERIES;
  const layout = opts.layout ?? labLayout();
  const fragment = opts.fragment ?? readFragment();
  const progress = opts.progress ?? silentProgress;
  const signal = opts.signal;
  const cached = findKernel(layout.kernelsDir, series, fragment.hash);
  if (cached) return { bzImage: cached.bzImage, entry: cached.entry, cached: true };

  return withLock(
    join(layout.root, 'build.lock'),
    (pid) =>
      progress({
        kind: 'phase',
        phase: 'wait',
        detail: `another lab build (pid ${pid}) holds ${join(layout.root, 'build.lock')}; waiting for it`,
      }),
    async () => {
      // The other build may have finished the same kernel while we waited.
      const again = findKernel(layout.kernelsDir, series, fragment.hash);
      if (again) return { bzImage: again.bzImage, entry: again.entry, cached: true };
      const missing = missingBuildTools();
      if (missing.length)
        throw new LabBuildError(`cannot build the lab kernel: missing ${missing.join(', ')} (run scripts/setup-debian.sh as root)`);
      const start = Date.now();
      const tree = await sourceTree(layout, series, progress, signal);
      const buildDir = layout.buildDir(tree.version);
      progress({
        kind: 'phase',
        phase: 'configure',
        detail: `tinyconfig + ${fragment.path} (sha256 ${fragment.hash.slice(0, 12)}) in ${buildDir}`,
      });
      await configure(tree, buildDir, fragment, signal);
      const jobs = opts.jobs ?? cpus().length;
      progress({
        kind: 'phase',
        phase: 'compile',
        detail: `make -j${jobs} bzImage (about 9-10 min on 2 cores from cold; resumes where it stopped)`,
      });
      let cc = 0;
      await make(tree, buildDir, [`-j${jobs}`, 'bzImage'], signal, (l) => {
        if (/^\s+CC\s/.test(l)) progress({ kind: 'compile', done: ++cc, expected: EXPECTED_CC });
      });
      const key = kernelKey(tree.version, fragment.hash);
      const entry: KernelEntry = {
        series,
        version: tree.version,
        package: sourcePackageName(series),
        fragmentHash: fragment.hash,
        bzImageSize: 0,
        bzImageSha256: '',
        builtAt: new Date().toISOString(),
        buildSeconds: Math.round((Date.now() - start) / 1000),
      };
      const bzImage = install(layout, key, entry, buildDir);
      const done = findKernel(layout.kernelsDir, series, fragment.hash);
      if (!done) throw new LabBuildError(`the kernel installed into ${layout.kernelDir(key)} does not pass its own check`);
      progress({
        kind: 'done',
        detail: `built ${bzImage} (${entry.package} ${tree.version}, ${cc} files compiled, ${Math.round((Date.now() - start) / 1000)} s)`,
      });
      return { bzImage, entry: done.entry, cached: false };
    },
    signal,
  ).catch((e: unknown) => {
    if (signal?.aborted || (e instanceof CommandError && /interrupted/.test(e.message))) throw new LabInterruptedError('interrupted');
    throw e;
  });
}

/** The cached bzImage, building it first when missing (the API other modules use). */
export async function ensureLabKernel(progress?: LabProgress, signal?: AbortSignal): Promise<string> {
  return (await buildLabKernel({ ...(progress ? { progress } : {}), ...(signal ? { signal } : {}) })).bzImage;
}

async function sourceTree(layout: LabLayout, series: string, progress: LabProgress, signal: AbortSignal | undefined): Promise<SourceTree> {
  const trees = extractedTrees(layout, series);
  if (trees.length) {
    const t = trees.sort((a, b) => statSync(b.dir).mtimeMs - statSync(a.dir).mtimeMs)[0] as SourceTree;
    progress({ kind: 'phase', phase: 'source', detail: `using the extracted ${sourcePackageName(series)} ${t.version} in ${t.dir}` });
    return t;
  }
  let debs = cachedDebs(layout, series);
  if (!debs.length) {
    progress({
      kind: 'phase',
      phase: 'download',
      detail: `fetching ${sourcePackageName(series)} through a private apt configuration in ${join(layout.root, 'apt')}`,
    });
    const t0 = Date.now();
    const got = await fetchKernelSource(layout, series, { signal, log: (l) => progress({ kind: 'phase', phase: 'download', detail: l }) });
    progress({
      kind: 'phase',
      phase: 'download',
      detail: `${got.debPath} (${(statSync(got.debPath).size / 1e6).toFixed(0)} MB from ${got.suite}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    });
    debs = [{ version: got.version, path: got.debPath }];
  }
  const deb = debs.sort((a, b) => statSync(b.path).mtimeMs - statSync(a.path).mtimeMs)[0] as { version: string; path: string };
  progress({ kind: 'phase', phase: 'extract', detail: `${deb.path} -> ${layout.srcDir(deb.version)}` });
  checkInterrupted(signal);
  return extract(layout, series, deb.version, deb.path, signal);
}
