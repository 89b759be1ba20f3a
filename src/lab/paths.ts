/**
 * Where the lab keeps things: one XDG cache directory, laid out by package version and config hash.
 *
 *   <root>/apt/<suite>/            private apt sources list, lists and cache (the machine's own apt is untouched)
 *   <root>/downloads/<file>.deb    the downloaded linux-source package
 *   <root>/src/<version>/          the extracted kernel tree (renamed into place once fully extracted)
 *   <root>/build/<version>/        make's O= output directory (kept between builds: make resumes from it)
 *   <root>/kernels/<key>/          a finished kernel: bzImage, config, entry.json, and COMPLETE written last
 *   <root>/selftests/<key>/        the KVM selftest binaries built from the same tree
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CACHE_ENV = 'GMEM_LAB_CACHE';

/** `$GMEM_LAB_CACHE`, else `$XDG_CACHE_HOME/gmem-spec/lab`, else `~/.cache/gmem-spec/lab`. */
export function labCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CACHE_ENV]) return env[CACHE_ENV] as string;
  const xdg = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'gmem-spec', 'lab');
}

/** A Debian version as a path segment: `7.3.4-1~bpo13+1` -> `7.3.4-1_bpo13_1` (make dislikes `~` and `+` in O=). */
export function versionDirName(version: string): string {
  return version.replace(/[^A-Za-z0-9.-]/g, '_');
}

/** The cache key of a kernel: exact package version plus the config fragment's hash. */
export function kernelKey(version: string, fragmentHash: string): string {
  return `${versionDirName(version)}-${fragmentHash.slice(0, 12)}`;
}

export interface LabLayout {
  root: string;
  aptDir(suite: string): string;
  downloads: string;
  srcDir(version: string): string;
  buildDir(version: string): string;
  kernelsDir: string;
  kernelDir(key: string): string;
  selftestsDir(key: string): string;
  toolsDir: string;
}

export function labLayout(root: string = labCacheRoot()): LabLayout {
  return {
    root,
    aptDir: (suite) => join(root, 'apt', suite),
    downloads: join(root, 'downloads'),
    srcDir: (version) => join(root, 'src', versionDirName(version)),
    buildDir: (version) => join(root, 'build', versionDirName(version)),
    kernelsDir: join(root, 'kernels'),
    kernelDir: (key) => join(root, 'kernels', key),
    selftestsDir: (key) => join(root, 'selftests', key),
    toolsDir: join(root, 'tools'),
  };
}
