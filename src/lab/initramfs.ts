/**
 * The lab VM's initramfs: busybox, the guest init (lab/init.sh), the job (program and argv), the user's
 * files under /lab, and the shared libraries any dynamically linked file needs, at the paths ldd names.
 * The layout and the job script are pure functions; `buildInitramfs` does the reading and ldd.
 */
import { accessSync, constants as fsConstants, closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type CpioMember, cpioArchive, cpioPath } from './cpio.ts';
import { labAssetPath } from './fragment.ts';
import { runCommand } from './proc.ts';

/** Where user files go in the guest, and the guest's working directory. */
export const GUEST_DIR = '/lab';

export class LabInputError extends Error {}

/** A file for the guest: a host path (put at /lab/<basename> unless `as` says where), or bytes. */
export type LabFile = string | { path: string; as?: string } | { as: string; data: string | Uint8Array; mode?: number };

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** /lab/job: sourced by init.sh; sets the program's argv and where its stdin comes from. */
export function jobScript(argv: readonly string[], stdin: 'port' | 'null'): string {
  if (argv.length === 0) throw new LabInputError('no program to run');
  return `LAB_STDIN=${stdin}\nset -- ${argv.map(shellQuote).join(' ')}\n`;
}

export interface ResolvedFile {
  guestPath: string;
  data: Uint8Array;
  mode: number;
}

/** The members of the archive: every parent directory once, /dev/console, busybox, init, job, files. */
export function initramfsMembers(spec: {
  busybox: Uint8Array;
  init: Uint8Array;
  job: string;
  files: readonly ResolvedFile[];
}): CpioMember[] {
  const dirs = new Set<string>(['dev', 'bin', 'lab']);
  const all: ResolvedFile[] = [
    { guestPath: '/bin/busybox', data: spec.busybox, mode: 0o755 },
    { guestPath: '/init', data: spec.init, mode: 0o755 },
    { guestPath: `${GUEST_DIR}/job`, data: Buffer.from(spec.job), mode: 0o644 },
    ...spec.files,
  ];
  const seen = new Set<string>();
  for (const f of all) {
    const p = cpioPath(f.guestPath);
    if (seen.has(p)) throw new LabInputError(`two files for the same guest path /${p}`);
    seen.add(p);
    const segs = p.split('/');
    for (let i = 1; i < segs.length; i++) dirs.add(segs.slice(0, i).join('/'));
  }
  const sortedDirs = [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  return [
    ...sortedDirs.map((d): CpioMember => ({ kind: 'dir', path: d })),
    // The kernel opens /dev/console for init before anything mounts devtmpfs.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ...all.map((f): CpioMember => ({ kind: 'file', path: cpioPath(f.guestPath), data: f.data, mode: f.mode })),
  ];
}

export interface LddResult {
  libraries: string[];
  missing: string[];
  isStatic: boolean;
}

/** Parses `ldd FILE` output: the libraries to copy (host paths) and the ones ldd could not find. */
export function parseLdd(text: string): LddResult {
  if (/not a dynamic executable|statically linked/.test(text)) return { libraries: [], missing: [], isStatic: true };
  const libraries: string[] = [];
  const missing: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === 'not found') missing.push(arrow[1] as string);
      else if ((arrow[2] as string).startsWith('/')) libraries.push(arrow[2] as string);
      continue;
    }
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct) libraries.push(direct[1] as string);
  }
  return { libraries, missing, isStatic: false };
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

function readHostFile(path: string, what: string): { data: Uint8Array; mode: number } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new LabInputError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw new LabInputError(`${what} ${path} is not a regular file`);
  return { data: readFileSync(path), mode: st.mode & 0o7777 };
}

/** The host paths of the shared libraries a file needs (none for static or non-ELF files). */
export async function sharedLibraries(path: string): Promise<string[]> {
  if (!isElf(path)) return [];
  const r = await runCommand('ldd', [path]);
  const parsed = parseLdd(`${r.stdout}\n${r.stderr}`);
  if (parsed.missing.length) throw new LabInputError(`${path} needs shared libraries ldd cannot find: ${parsed.missing.join(', ')}`);
  return parsed.libraries;
}

export interface InitramfsRequest {
  files: readonly LabFile[];
  /** A host path (copied in and run from /lab), or a command the guest has (busybox applet, a --file name). */
  program: string;
  args: readonly string[];
  stdin: 'port' | 'null';
  compress?: boolean;
}

/** Host busybox to put in the guest: Debian's busybox-static. */
export const BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];

export async function buildInitramfs(req: InitramfsRequest): Promise<Buffer> {
  const busyboxPath = BUSYBOX_PATHS.find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!busyboxPath)
    throw new LabInputError(`no busybox at ${BUSYBOX_PATHS.join(' or ')} (apt-get install busybox-static, or run scripts/setup-debian.sh)`);
  const files: ResolvedFile[] = [];
  const elfHostPaths: string[] = [busyboxPath];
  const addHost = (hostPath: string, guestPath: string, what: string): void => {
    const { data, mode } = readHostFile(hostPath, what);
    files.push({ guestPath, data, mode });
    if (isElf(hostPath)) elfHostPaths.push(hostPath);
  };
  for (const f of req.files) {
    if (typeof f === 'string') addHost(f, `${GUEST_DIR}/${basename(f)}`, '--file');
    else if ('path' in f) addHost(f.path, f.as ?? `${GUEST_DIR}/${basename(f.path)}`, '--file');
    else files.push({ guestPath: f.as, data: typeof f.data === 'string' ? Buffer.from(f.data) : f.data, mode: f.mode ?? 0o644 });
  }
  let argv0 = req.program;
  if (req.program.includes('/')) {
    addHost(req.program, `${GUEST_DIR}/${basename(req.program)}`, 'program');
    try {
      accessSync(req.program, fsConstants.X_OK);
    } catch {
      throw new LabInputError(
        `program ${req.program} is not executable (chmod +x it, or run it through an interpreter the guest has, e.g. -- sh ${basename(req.program)})`,
      );
    }
    argv0 = `${GUEST_DIR}/${basename(req.program)}`;
  } else {
    const given = files.find((f) => f.guestPath === `${GUEST_DIR}/${req.program}`);
    if (given && (given.mode & 0o111) === 0) throw new LabInputError(`program ${req.program} (given with --file) is not executable`);
  }
  const libs = new Set<string>();
  for (const p of elfHostPaths) for (const lib of await sharedLibraries(p)) libs.add(lib);
  for (const lib of libs) {
    if (!files.some((f) => f.guestPath === lib)) files.push({ guestPath: lib, data: readFileSync(lib), mode: 0o755 });
  }
  const archive = cpioArchive(
    initramfsMembers({
      busybox: readFileSync(busyboxPath),
      init: readFileSync(labAssetPath('init.sh')),
      job: jobScript([argv0, ...req.args], req.stdin),
      files,
    }),
  );
  return req.compress === false ? archive : gzipSync(archive, { level: 1 });
}
