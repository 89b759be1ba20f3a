/**
 * What a kernel's /dev/kvm offers, from lab/kvm-caps.c's report (pure parsing and classification), and
 * the host's own answer (runs the tool here).
 */
import { labTool } from './tools.ts';
import { runCommand } from './proc.ts';

export interface KvmReport {
  /** `open`, `absent`, or the error opening /dev/kvm. */
  kvm: string;
  caps: Record<string, number>;
  createVm?: string;
  createGuestMemfd?: string;
  createSwProtectedVm?: string;
}

export function parseKvmReport(text: string): KvmReport {
  const report: KvmReport = { kvm: 'unknown', caps: {} };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(' ');
    const value = rest.join(' ');
    if (key === 'kvm') report.kvm = value;
    else if (key === 'cap' && rest.length === 2) report.caps[rest[0] as string] = Number(rest[1]);
    else if (key === 'create_vm') report.createVm = value;
    else if (key === 'create_guest_memfd') report.createGuestMemfd = value;
    else if (key === 'create_vm_sw_protected') report.createSwProtectedVm = value;
  }
  return report;
}

/** The three kinds of host the project meets (kernel-lab.md), decided by capability and by trying. */
export type KvmOffer =
  | { kind: 'no-kvm'; reason: string }
  | { kind: 'kvm-without-guest-memfd'; reason: string }
  | { kind: 'kvm-with-guest-memfd'; reason: string };

export function classifyKvm(r: KvmReport): KvmOffer {
  if (r.kvm !== 'open') return { kind: 'no-kvm', reason: r.kvm === 'absent' ? 'no /dev/kvm' : `cannot open /dev/kvm: ${r.kvm}` };
  if (r.createVm !== 'ok') return { kind: 'no-kvm', reason: `/dev/kvm opens but KVM_CREATE_VM fails: ${r.createVm ?? 'not tried'}` };
  const cap = r.caps.GUEST_MEMFD ?? 0;
  if (cap <= 0 || r.createGuestMemfd !== 'ok') {
    return {
      kind: 'kvm-without-guest-memfd',
      reason: `/dev/kvm without guest_memfd (KVM_CAP_GUEST_MEMFD=${cap}, KVM_CREATE_GUEST_MEMFD: ${r.createGuestMemfd ?? 'not tried'})`,
    };
  }
  const types = r.caps.VM_TYPES ?? 0;
  return {
    kind: 'kvm-with-guest-memfd',
    reason: `/dev/kvm with guest_memfd (KVM_CAP_GUEST_MEMFD=${cap}, KVM_CAP_VM_TYPES=0x${Math.max(types, 0).toString(16)}, KVM_CAP_GUEST_MEMFD_FLAGS=${r.caps.GUEST_MEMFD_FLAGS ?? 0})`,
  };
}

/** Runs the probe on this host. */
export async function hostKvmReport(): Promise<KvmReport> {
  const tool = await labTool('kvm-caps');
  const r = await runCommand(tool, []);
  return parseKvmReport(r.stdout);
}
