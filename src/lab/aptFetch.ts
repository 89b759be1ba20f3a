/**
 * Getting linux-source-<series> from Debian through a private apt configuration: a sources list, lists
 * directory and cache of our own under the lab cache, so the machine's apt state is never changed.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DebianMirror,
  LAB_SUITES,
  debFileVersion,
  debianMirrors,
  parseAptCacheShow,
  parseDeb822Sources,
  parseOneLineSources,
  privateSourcesList,
} from './aptSources.ts';
import type { LabLayout } from './paths.ts';
import { CommandError, haveProgram, lastLines, runCommand } from './proc.ts';

export const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export class LabFetchError extends Error {}

export function sourcePackageName(series: string): string {
  return `linux-source-${series}`;
}

/** The machine's Debian mirrors, read from its apt configuration under `etc` (normally /etc/apt). */
export function machineMirrors(etc = '/etc/apt'): DebianMirror[] {
  const entries = [];
  const read = (p: string): string | undefined => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  };
  const main = read(join(etc, 'sources.list'));
  if (main) entries.push(...parseOneLineSources(main));
  let parts: string[] = [];
  try {
    parts = readdirSync(join(etc, 'sources.list.d')).sort();
  } catch {
    // no sources.list.d
  }
  for (const f of parts) {
    const text = read(join(etc, 'sources.list.d', f));
    if (text === undefined) continue;
    if (f.endsWith('.list')) entries.push(...parseOneLineSources(text));
    else if (f.endsWith('.sources')) entries.push(...parseDeb822Sources(text));
  }
  return debianMirrors(entries);
}

function aptOptions(dir: string): string[] {
  const o = [
    '-o',
    `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
    '-o',
    'Dir::Etc::SourceParts=/dev/null',
    '-o',
    `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o',
    `Dir::Cache=${join(dir, 'cache')}`,
  ];
  // As root apt would drop to the _apt user, which cannot write our private directories.
  if (process.getuid?.() === 0) o.push('-o', 'APT::Sandbox::User=root');
  return o;
}

/** The linux-source packages of a series already downloaded into the cache. */
export function cachedDebs(layout: LabLayout, series: string): { version: string; path: string }[] {
  const pkg = sourcePackageName(series);
  let files: string[] = [];
  try {
    files = readdirSync(layout.downloads);
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    const version = debFileVersion(f, pkg);
    return version ? [{ version, path: join(layout.downloads, f) }] : [];
  });
}

export interface FetchedSource {
  version: string;
  debPath: string;
  suite: string;
  mirror: string;
}

export interface FetchOptions {
  signal?: AbortSignal;
  log: (line: string) => void;
  aptEtc?: string;
}

/** Asks each suite in turn for linux-source-<series> and downloads the first version found. */
export async function fetchKernelSource(layout: LabLayout, series: string, opts: FetchOptions): Promise<FetchedSource> {
  const pkg = sourcePackageName(series);
  if (!haveProgram('apt-get'))
    throw new LabFetchError(`cannot fetch ${pkg}: apt-get is not installed (a Debian machine is needed to build the lab kernel)`);
  const mirrors = machineMirrors(opts.aptEtc);
  if (mirrors.length === 0)
    throw new LabFetchError(`cannot fetch ${pkg}: no Debian mirror with component main in ${opts.aptEtc ?? '/etc/apt'}/sources.list{,.d}`);
  const tried: string[] = [];
  for (const suite of LAB_SUITES) {
    for (const mirror of mirrors) {
      const dir = layout.aptDir(suite);
      mkdirSync(join(dir, 'lists', 'partial'), { recursive: true });
      mkdirSync(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
      writeFileSync(join(dir, 'sources.list'), privateSourcesList(mirror, suite, DEFAULT_KEYRING));
      opts.log(`asking ${suite} (${mirror.uri}) for ${pkg}`);
      const upd = await runCommand('apt-get', [...aptOptions(dir), 'update'], { signal: opts.signal });
      if (opts.signal?.aborted) throw new CommandError('interrupted');
      if (upd.code !== 0) {
        tried.push(`${suite}: apt-get update failed (${lastLines(upd.stderr, 1)})`);
        continue;
      }
      const show = await runCommand('apt-cache', [...aptOptions(dir), 'show', pkg], { signal: opts.signal });
      const versions = show.code === 0 ? parseAptCacheShow(show.stdout) : [];
      const best = versions[0];
      if (!best) {
        tried.push(`${suite}: not listed`);
        continue;
      }
      opts.log(`${suite} has ${pkg} ${best.version} (${(best.size / 1e6).toFixed(0)} MB); downloading`);
      const debPath = await download(layout, dir, pkg, best.version, suite, opts);
      return { version: best.version, debPath, suite, mirror: mirror.uri };
    }
  }
  throw new LabFetchError(
    `no suite offers ${pkg} (${tried.join('; ')}): the series may have left the archive; try another series with --series`,
  );
}

async function download(
  layout: LabLayout,
  aptDir: string,
  pkg: string,
  version: string,
  suite: string,
  opts: FetchOptions,
): Promise<string> {
  mkdirSync(layout.downloads, { recursive: true });
  // apt-get download writes into the working directory; a private one, renamed from, keeps half files out.
  const partial = join(layout.downloads, `.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  try {
    const r = await runCommand('apt-get', [...aptOptions(aptDir), 'download', `${pkg}=${version}`], { cwd: partial, signal: opts.signal });
    if (opts.signal?.aborted) throw new CommandError('interrupted');
    if (r.code !== 0) {
      const why = lastLines(r.stderr, 2);
      if (/404|Not Found/i.test(why))
        throw new LabFetchError(
          `${pkg} ${version} is listed in ${suite} but gone from the pool (${why}); run again later or try another --series`,
        );
      throw new LabFetchError(`apt-get download ${pkg}=${version} failed: ${why}`);
    }
    const file = readdirSync(partial).find((f) => f.endsWith('.deb'));
    if (!file) throw new LabFetchError(`apt-get download ${pkg}=${version} reported success but wrote no .deb`);
    const dest = join(layout.downloads, file);
    renameSync(join(partial, file), dest);
    return dest;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
