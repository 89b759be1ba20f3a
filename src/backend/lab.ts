/**
 * The lab backend: the native helper runs inside the lab VM (src/lab/, a Linux 7.3 built with
 * KVM_SW_PROTECTED_VM), behind native/lab-relay.c, over the VM's stdio channel. It is the LinuxBackend with
 * a lab transport: the same per-step outcomes, time limits (the relay turns `~interrupt` into the helper's
 * SIGUSR1) and crash handling (a VM that dies mid-trace fails the running step with one line, and the next
 * run boots a new VM).
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { BUSYBOX_PATHS } from '../lab/initramfs.ts';
import { labKernelPath, ensureLabKernel } from '../lab/kernelBuild.ts';
import { type LabProgress, progressRenderer } from '../lab/progress.ts';
import { qemuAvailable } from '../lab/qemu.ts';
import { type LabVm, startLabVm } from '../lab/vm.ts';
import { nativeHelperPath } from '../installation.ts';
import { DYNAMIC_HELPER, RELAY, ensureNative } from './lab/nativeBuild.ts';
import { type LineChannel, RelayTransport } from './lab/relayTransport.ts';
import { LinuxBackend } from './linux.ts';

/** Boot to the helper's banner: TCG boots in about 2 s, but the host may be busy. */
const LAB_START_TIMEOUT_MS = 90_000;
/** An interrupted trace answers `done` through the emulated CPU and a virtio port: give it longer. */
const LAB_RECOVERY_MS = 5_000;
/** Per-trace time limit: steps in the nested guest are slower than on a host. */
export const LAB_TIMEOUT_MS = 30_000;

export type LabStatus = { ok: true; cached: boolean; kernel: string | undefined } | { ok: false; reason: string };

/**
 * Can the lab backend run here? It needs QEMU and busybox; the kernel is built on first use when it is not
 * cached (`cached` says which). Synchronous, and asks no kernel.
 */
export function labBackendStatus(): LabStatus {
  const qemu = qemuAvailable();
  if (!qemu.ok) return { ok: false, reason: qemu.reason };
  if (!BUSYBOX_PATHS.some((p) => existsSync(p))) {
    return { ok: false, reason: `no busybox at ${BUSYBOX_PATHS.join(' or ')} (apt-get install busybox-static)` };
  }
  const kernel = labKernelPath();
  return { ok: true, cached: kernel !== undefined, kernel };
}

/** Build progress as whole lines (one per phase, one per tenth of the compile), e.g. to a command's stderr. */
export function progressLines(write: (line: string) => void): LabProgress {
  return progressRenderer({
    write: (s) => {
      for (const l of s.split('\n')) if (l.trim()) write(l);
    },
    tty: false,
  });
}

export interface LabBackendOptions {
  /** An LD_PRELOAD shim (host path) the helper runs under, inside the VM. */
  preload?: string;
  /** Build progress, when the lab kernel has to be built first. */
  progress?: LabProgress;
  /** Per-trace time limit (default LAB_TIMEOUT_MS). */
  timeoutMs?: number;
  /** A bzImage to boot instead of the cached lab kernel (another build, another series). */
  kernel?: string;
  /** Called with each VM once it is started (benchmarks and tests read boot figures or kill it). */
  onVm?: (vm: LabVm) => void;
}

/** A problem with --preload, said before any VM boots. */
export class PreloadError extends Error {}

function checkPreload(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new PreloadError(`--preload ${path}: no such file`);
  }
  if (!st.isFile()) throw new PreloadError(`--preload ${path}: not a regular file`);
  try {
    accessSync(path, fsConstants.R_OK);
  } catch {
    throw new PreloadError(`--preload ${path}: not readable`);
  }
}

const GUEST_PRELOAD = '/lab/preload.so';

/** A channel to the relay in a freshly booted lab VM. */
async function bootLab(options: LabBackendOptions): Promise<RelayTransport> {
  const kernel = options.kernel ?? (await ensureLabKernel(options.progress));
  const relay = ensureNative(RELAY);
  // The real helper always (GMEM_SPEC_HELPER only stands in for the host's).
  const helper = options.preload ? ensureNative(DYNAMIC_HELPER) : nativeHelperPath();
  const files = [helper, ...(options.preload ? [{ path: options.preload, as: GUEST_PRELOAD }] : [])];
  const helperArg = `/lab/${helper.split('/').pop() as string}`;
  const vm = await startLabVm({
    kernel,
    files,
    program: relay,
    args: options.preload ? ['--preload', GUEST_PRELOAD, helperArg] : [helperArg],
  });
  options.onVm?.(vm);
  const channel: LineChannel = {
    write: (text) => {
      vm.stdin.write(text);
    },
    end: () => {
      vm.stdin.end();
    },
    kill: () => {
      void vm.close(0).catch(() => undefined);
    },
    listen: (l) => {
      vm.stdout.setEncoding('utf8');
      vm.stdout.on('data', (chunk: string) => l.data(chunk));
      vm.exited.then(
        (exit) => l.exit(`the lab VM ended (the relay exited with status ${exit.status})`),
        (e: unknown) => l.exit((e as Error).message),
      );
    },
  };
  return new RelayTransport(channel, {
    label: `gmem-helper in the lab VM${options.preload ? ` under LD_PRELOAD=${options.preload}` : ''}`,
    recoveryMs: LAB_RECOVERY_MS,
  });
}

export function openLabBackend(options: LabBackendOptions = {}): LinuxBackend {
  if (options.preload !== undefined) checkPreload(options.preload);
  return new LinuxBackend({
    name: 'lab',
    connect: () => bootLab(options),
    startTimeoutMs: LAB_START_TIMEOUT_MS,
    timeoutMs: options.timeoutMs ?? LAB_TIMEOUT_MS,
    release: 'unknown (the lab VM has not booted yet)',
  });
}
