/**
 * QEMU for the lab: which binary, which accelerator, and the command line (pure). The guest sees three
 * virtio serial ports (stdio, stderr, status, see lab/init.sh); the kernel log goes to the first serial port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { haveProgram } from './proc.ts';

/** Points the lab at another QEMU binary (tests use a missing one to check the "no QEMU" error). */
export const QEMU_ENV = 'GMEM_LAB_QEMU';
/** `tcg` or `kvm` forces the accelerator; unset lets the lab decide. */
export const ACCEL_ENV = 'GMEM_LAB_ACCEL';

export function qemuBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env[QEMU_ENV] || 'qemu-system-x86_64';
}

export function qemuAvailable(env: NodeJS.ProcessEnv = process.env): { ok: true; binary: string } | { ok: false; reason: string } {
  const binary = qemuBinary(env);
  if (binary.includes('/') ? existsSync(binary) : haveProgram(binary)) return { ok: true, binary };
  return {
    ok: false,
    reason: `no QEMU: ${binary} not found${env[QEMU_ENV] ? ` ($${QEMU_ENV})` : ' (apt-get install qemu-system-x86, or run scripts/setup-debian.sh)'}`,
  };
}

export type Accel = 'kvm' | 'tcg';

export interface HostVirt {
  devKvm: boolean;
  /** The host's KVM vendor module lets guests use SVM/VMX (kvm_amd/kvm_intel `nested` = Y or 1). */
  nested: boolean;
}

export function readHostVirt(): HostVirt {
  const nestedParam = (m: string): boolean => {
    try {
      return /^(Y|1)$/.test(readFileSync(`/sys/module/${m}/parameters/nested`, 'utf8').trim());
    } catch {
      return false;
    }
  };
  return { devKvm: existsSync('/dev/kvm'), nested: nestedParam('kvm_amd') || nestedParam('kvm_intel') };
}

/**
 * KVM acceleration only when the host both has /dev/kvm and lets its guests nest: the lab's own kvm_amd
 * must load inside the guest, or the lab has no /dev/kvm and is useless. Otherwise QEMU's emulator (TCG),
 * whose `-cpu max` offers AMD SVM.
 */
export function chooseAccel(host: HostVirt, forced?: string): { accel: Accel; why: string } {
  if (forced === 'tcg') return { accel: 'tcg', why: `forced by $${ACCEL_ENV}=tcg` };
  if (forced === 'kvm') return { accel: 'kvm', why: `forced by $${ACCEL_ENV}=kvm` };
  if (!host.devKvm) return { accel: 'tcg', why: 'the host has no /dev/kvm' };
  if (!host.nested)
    return { accel: 'tcg', why: 'the host has /dev/kvm but does not offer nested SVM/VMX (kvm_amd/kvm_intel nested is not Y)' };
  return { accel: 'kvm', why: 'the host has /dev/kvm with nested virtualization' };
}

export interface QemuArgsSpec {
  kernel: string;
  initrd: string;
  kernelLog: string;
  stderrFile: string;
  statusFile: string;
  accel: Accel;
  memoryMiB?: number;
  cpus?: number;
  /** Extra kernel command line words. */
  append?: readonly string[];
}

export function qemuArgs(spec: QemuArgsSpec): string[] {
  const accel = spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
  return [
    ...accel,
    '-m',
    `${spec.memoryMiB ?? 2048}M`,
    '-smp',
    String(spec.cpus ?? 2),
    '-nodefaults',
    '-display',
    'none',
    '-monitor',
    'none',
    '-no-reboot',
    '-chardev',
    `file,id=klog,path=${spec.kernelLog}`,
    '-serial',
    'chardev:klog',
    '-device',
    'virtio-serial-pci,id=vser',
    // QEMU's own stdin/stdout are the guest program's stdin/stdout: no socket to set up or clean up.
    '-chardev',
    'stdio,id=stdio,signal=off',
    '-device',
    'virtserialport,bus=vser.0,chardev=stdio,name=stdio',
    '-chardev',
    `file,id=stderr,path=${spec.stderrFile}`,
    '-device',
    'virtserialport,bus=vser.0,chardev=stderr,name=stderr',
    '-chardev',
    `file,id=status,path=${spec.statusFile}`,
    '-device',
    'virtserialport,bus=vser.0,chardev=status,name=status',
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initrd,
    '-append',
    ['console=ttyS0', 'panic=-1', 'rdinit=/init', ...(spec.append ?? [])].join(' '),
  ];
}

/** What init.sh wrote to the status port: when the program started and how it ended (guest uptime, s). */
export interface GuestStatus {
  startUptime?: number;
  exitCode?: number;
  exitUptime?: number;
}

export function parseStatus(text: string): GuestStatus {
  const out: GuestStatus = {};
  for (const line of text.split('\n')) {
    const start = /^start (\d+(?:\.\d+)?)$/.exec(line.trim());
    if (start) out.startUptime = Number(start[1]);
    const exit = /^exit (\d+) (\d+(?:\.\d+)?)$/.exec(line.trim());
    if (exit) {
      out.exitCode = Number(exit[1]);
      out.exitUptime = Number(exit[2]);
    }
  }
  return out;
}
