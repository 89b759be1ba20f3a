/**
 * Booting the lab: a QEMU VM running one program from a busybox initramfs.
 *
 * `startLabVm` gives a live channel: the guest program's stdin/stdout are QEMU's own stdin/stdout (a
 * virtio serial port bound to QEMU's stdio), so a line protocol such as the native helper's runs inside the
 * VM and is driven from node. `labExec` runs a program to its end and returns its stdout, stderr and exit
 * status. The kernel log (ttyS0) is kept apart, in a file, and shown when something goes wrong.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { labKernelPath } from './kernelBuild.ts';
import { type LabFile, buildInitramfs } from './initramfs.ts';
import { ACCEL_ENV, type Accel, chooseAccel, parseStatus, qemuArgs, qemuAvailable, readHostVirt } from './qemu.ts';
import { lastLines } from './proc.ts';

export class LabVmError extends Error {
  constructor(
    message: string,
    readonly kernelLog: string,
  ) {
    super(message);
    this.name = 'LabVmError';
  }
}

export interface LabVmOptions {
  files?: readonly LabFile[];
  program: string;
  args?: readonly string[];
  /** bzImage to boot (default: the cached lab kernel). */
  kernel?: string;
  /** Time for the guest to reach its program (default 60 s; TCG boots in about 1.5 s). */
  bootTimeoutMs?: number;
  /** Time limit for the whole VM, boot included (default: none for startLabVm). */
  timeoutMs?: number;
  memoryMiB?: number;
  cpus?: number;
  accel?: Accel;
  /** Where the program's stdin comes from: the live channel (startLabVm) or /dev/null (labExec). */
  stdin?: 'port' | 'null';
}

export interface LabVmExit {
  /** The program's exit status (a shell status: 128+N for a signal). */
  status: number;
  stderr: string;
  kernelLog: string;
  /** Guest uptime when the program started, in seconds (boot to userspace). */
  bootSeconds: number;
  /** Guest seconds the program ran. */
  programSeconds: number;
  /** Host milliseconds from QEMU's start to the program's start. */
  hostBootMs: number;
  accel: Accel;
}

export interface LabVm {
  /** The guest program's stdin (write lines to it). */
  readonly stdin: Writable;
  /** The guest program's stdout. */
  readonly stdout: Readable;
  readonly accel: Accel;
  /** QEMU's process id. */
  readonly pid: number | undefined;
  /** Resolves when the guest program has started (its VM booted). */
  readonly started: Promise<void>;
  /** Resolves when QEMU ends after the program exited; rejects (LabVmError) on a crash, timeout, or a guest that ended without a status. */
  readonly exited: Promise<LabVmExit>;
  /** The kernel log so far. */
  kernelLog(): string;
  /** The program's stderr so far. */
  stderrText(): string;
  /** Ends the program's stdin, waits up to graceMs for it to exit, then kills QEMU. */
  close(graceMs?: number): Promise<LabVmExit>;
}

const DEFAULT_BOOT_TIMEOUT_MS = 60_000;

function resolveAccel(opts: LabVmOptions): Accel {
  return opts.accel ?? chooseAccel(readHostVirt(), process.env[ACCEL_ENV]).accel;
}

export async function startLabVm(opts: LabVmOptions): Promise<LabVm> {
  // Bad input first: it is said the same whatever the machine has.
  const initrd = await buildInitramfs({
    files: opts.files ?? [],
    program: opts.program,
    args: opts.args ?? [],
    stdin: opts.stdin ?? 'port',
  });
  const qemu = qemuAvailable();
  if (!qemu.ok) throw new LabVmError(qemu.reason, '');
  const kernel = opts.kernel ?? labKernelPath();
  if (!kernel) throw new LabVmError('no lab kernel is cached (run `gmem-spec lab build`)', '');
  const dir = mkdtempSync(join(tmpdir(), 'gmem-lab-'));
  const paths = {
    initrd: join(dir, 'initrd.gz'),
    kernelLog: join(dir, 'kernel.log'),
    stderrFile: join(dir, 'stderr'),
    statusFile: join(dir, 'status'),
  };
  writeFileSync(paths.initrd, initrd);
  const accel = resolveAccel(opts);
  const args = qemuArgs({
    kernel,
    initrd: paths.initrd,
    kernelLog: paths.kernelLog,
    stderrFile: paths.stderrFile,
    statusFile: paths.statusFile,
    accel,
    ...(opts.memoryMiB ? { memoryMiB: opts.memoryMiB } : {}),
    ...(opts.cpus ? { cpus: opts.cpus } : {}),
  });
  const t0 = Date.now();
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(qemu.binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // The guest may close its end first; a write after that must not crash node.
  child.stdin.on('error', () => {});
  let qemuStderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    qemuStderr = (qemuStderr + c).slice(-16384);
  });
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const kernelLog = (): string => read(paths.kernelLog);
  const status = () => parseStatus(read(paths.statusFile));
  let startedAt: number | undefined;
  let killedFor: string | undefined;
  const kill = (why: string): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killedFor ??= why;
    child.kill('SIGKILL');
  };

  let resolveStarted!: () => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  started.catch(() => {});
  const bootLimit = opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const poll = setInterval(() => {
    if (startedAt === undefined && status().startUptime !== undefined) {
      startedAt = Date.now();
      resolveStarted();
    }
    if (startedAt === undefined && Date.now() - t0 > bootLimit)
      kill(`the lab kernel did not reach its program within ${Math.round(bootLimit / 1000)} s`);
  }, 50);
  const overall = opts.timeoutMs
    ? setTimeout(() => kill(`timed out after ${Math.round((opts.timeoutMs as number) / 1000)} s`), opts.timeoutMs)
    : undefined;

  /** On failure: keep only a non-empty kernel log, and say where it is. */
  const keepLog = (log: string): string => {
    const tail = lastLines(log, 4);
    if (!tail) {
      rmSync(dir, { recursive: true, force: true });
      return '; the kernel log is empty';
    }
    for (const p of [paths.initrd, paths.stderrFile, paths.statusFile]) rmSync(p, { force: true });
    return `; kernel log (${paths.kernelLog}) ends: ${tail}`;
  };
  let settled = false;
  const exited = new Promise<LabVmExit>((resolve, reject) => {
    const fail = (message: string, log: string): void => {
      const err = new LabVmError(message, log);
      rejectStarted(err);
      reject(err);
    };
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      if (overall) clearTimeout(overall);
      rmSync(dir, { recursive: true, force: true });
      fail(`lab VM: cannot start ${qemu.binary}: ${e.message}`, '');
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      if (overall) clearTimeout(overall);
      const log = kernelLog();
      const st = status();
      const stderr = read(paths.stderrFile);
      if (st.startUptime !== undefined && startedAt === undefined) {
        startedAt = Date.now();
        resolveStarted();
      }
      let failure: string | undefined;
      if (killedFor) failure = `lab VM: ${killedFor}`;
      else if (code !== 0)
        failure = `lab VM: QEMU exited with ${code ?? signal}${st.startUptime === undefined ? ' before the guest program started' : ''}: ${lastLines(qemuStderr, 2) || 'no message'}`;
      else if (st.startUptime === undefined)
        failure = 'lab VM: the guest stopped before its program started (a kernel that does not boot, a panic, or no init)';
      else if (st.exitCode === undefined)
        failure = 'lab VM: the guest stopped while its program ran, without an exit status (kernel panic?)';
      if (failure) {
        fail(`${failure}${keepLog(log)}`, log);
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        status: st.exitCode as number,
        stderr,
        kernelLog: log,
        bootSeconds: st.startUptime as number,
        programSeconds: (st.exitUptime as number) - (st.startUptime as number),
        hostBootMs: (startedAt as number) - t0,
        accel,
      });
    });
  });
  exited.catch(() => {});

  return {
    stdin: child.stdin,
    stdout: child.stdout,
    accel,
    pid: child.pid,
    started,
    exited,
    kernelLog,
    stderrText: () => read(paths.stderrFile),
    async close(graceMs = 5000) {
      child.stdin.end();
      const timer = setTimeout(() => kill(`the guest program did not exit within ${graceMs} ms of its stdin closing`), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface LabExecOptions {
  files?: readonly LabFile[];
  program: string;
  args?: readonly string[];
  /** Whole-run limit, boot included (default 300 s). */
  timeoutMs?: number;
  kernel?: string;
  bootTimeoutMs?: number;
  memoryMiB?: number;
  cpus?: number;
}

export interface LabExecResult extends LabVmExit {
  stdout: string;
}

/** Boots the lab, runs one program with stdin from /dev/null, and returns its output and exit status. */
export async function labExec(opts: LabExecOptions): Promise<LabExecResult> {
  const vm = await startLabVm({ ...opts, timeoutMs: opts.timeoutMs ?? 300_000, stdin: 'null' });
  const chunks: Buffer[] = [];
  vm.stdout.on('data', (c: Buffer) => chunks.push(c));
  // QEMU's stdin stays open (never written): closing it would tell the guest the host hung up.
  const exit = await vm.exited;
  vm.stdin.end();
  return { ...exit, stdout: Buffer.concat(chunks).toString('utf8') };
}
