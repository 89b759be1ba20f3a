/**
 * KVM_CHECK_EXTENSION answers: the capabilities a VMM queries around guest_memfd, per profile and per VM type
 * (kernel-abi.md §1.4; docs/kernel-observations.md for the kernel here; the fact sheet kernel-lab.md for 7.3).
 * A capability the spec does not model, or one no fact pins down on this profile's architecture, has no
 * answer: the step's outcome is `not_modelled`, and comparisons leave it out instead of guessing 0.
 *
 * A profile's `extraCaps` (measured values, e.g. linux-6.18's cap 236 = 0 on a host without TDP) win over the
 * rules below.
 */
import { KVM_CAP, KVM_MEMORY_ATTRIBUTE_PRIVATE, VM_TYPE, type VmTypeName } from '../constants.ts';
import type { Profile } from '../profile.ts';
import { acceptedFlagDefs, flagMask } from './flagAcceptance.ts';

export type CapAnswer = { value: bigint } | { notModelled: string };

/** x86 VM types with protected guest state (SEV-ES, SNP, TDX): no read-only memory (kvm_arch_has_readonly_mem). */
const PROTECTED_STATE: ReadonlySet<VmTypeName> = new Set<VmTypeName>(['sev_es', 'snp', 'tdx']);

const value = (v: bigint | number): CapAnswer => ({ value: BigInt(v) });
const open = (why: string): CapAnswer => ({ notModelled: why });

/** The capabilities this module answers, by number (for the docs and the tests). */
export const MODELLED_CAPS: readonly number[] = [
  KVM_CAP.NR_MEMSLOTS,
  KVM_CAP.READONLY_MEM,
  KVM_CAP.MULTI_ADDRESS_SPACE,
  KVM_CAP.USER_MEMORY2,
  KVM_CAP.MEMORY_FAULT_INFO,
  KVM_CAP.MEMORY_ATTRIBUTES,
  KVM_CAP.GUEST_MEMFD,
  KVM_CAP.VM_TYPES,
  KVM_CAP.PRE_FAULT_MEMORY,
  KVM_CAP.GUEST_MEMFD_FLAGS,
];

/**
 * What KVM_CHECK_EXTENSION(cap) answers on /dev/kvm (`vmType` undefined) or on a VM of `vmType`.
 */
export function capAnswer(p: Profile, cap: bigint, vmType: VmTypeName | undefined): CapAnswer {
  const n = Number(cap);
  const extra = p.extraCaps[n];
  if (extra) return value(vmType === undefined ? extra.kvm : (extra.vm ?? extra.kvm));
  const types = Object.keys(p.vmTypes) as VmTypeName[];
  const arm64 = p.arch === 'arm64';
  const privateVm = vmType !== undefined && p.vmTypes[vmType]?.hasPrivateMem === true;
  if (p.gmemAttributes && n === p.gmemAttributes.cap) {
    const r = vmType === undefined ? undefined : p.vmTypes[vmType];
    return value(r?.hasPrivateMem && r.conversion === 'in-place' ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n);
  }
  switch (n) {
    case KVM_CAP.GUEST_MEMFD:
      return value(1);
    case KVM_CAP.USER_MEMORY2:
      // Generic (kvm_vm_ioctl_check_extension_generic): every kernel with guest_memfd has it.
      return value(1);
    case KVM_CAP.VM_TYPES:
      // An x86 capability: arm64's check_extension answers 0 (it selects VM types in KVM_CREATE_VM's argument).
      if (arm64) return value(0);
      return value(types.reduce((m, t) => (VM_TYPE[t] < 32 ? m | (1n << BigInt(VM_TYPE[t])) : m), 0n));
    case KVM_CAP.GUEST_MEMFD_FLAGS:
      // No VM context: the answer for a default VM (kvm_arch_supports_gmem_init_shared(NULL) is true).
      return value(flagMask(acceptedFlagDefs(p, vmType ?? 'default')));
    case KVM_CAP.MEMORY_ATTRIBUTES: {
      if (p.choices.setMemoryAttributesMissing) return value(0);
      const usesVmAttrs = (t: VmTypeName) => p.vmTypes[t]?.hasPrivateMem === true && p.vmTypes[t]?.conversion === 'vm-attributes';
      if (vmType === undefined) return value(types.some(usesVmAttrs) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n);
      return value(usesVmAttrs(vmType) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n);
    }
    case KVM_CAP.MEMORY_FAULT_INFO:
      if (arm64) return open('kernel-abi.md §1.4 gives KVM_CAP_MEMORY_FAULT_INFO for x86 only; arm64 is unconfirmed');
      return value(1);
    case KVM_CAP.PRE_FAULT_MEMORY:
      if (arm64) return open('KVM_PRE_FAULT_MEMORY on arm64 was proposed; its status is unconfirmed (kernel-abi.md §1.4)');
      // x86: tdp_enabled (EPT/NPT), true on a host that can run these VM types.
      return value(1);
    case KVM_CAP.READONLY_MEM:
      // kvm_vm_ioctl_check_extension_generic: kvm ? kvm_arch_has_readonly_mem(kvm) : true.
      if (vmType === undefined) return value(1);
      if (arm64) return vmType === 'default' ? value(1) : open(`read-only memslots of an arm64 ${vmType} VM are unconfirmed`);
      return value(PROTECTED_STATE.has(vmType) ? 0 : 1);
    case KVM_CAP.MULTI_ADDRESS_SPACE:
      // Only compiled in with more than one address space (x86 SMM); otherwise the arch answers 0. A VM with
      // private memory has no SMM address space (kvm_arch_nr_memslot_as_ids).
      if (p.choices.addressSpaces <= 1) return value(0);
      return value(privateVm ? 1 : p.choices.addressSpaces);
    case KVM_CAP.NR_MEMSLOTS:
      return value(p.choices.userMemSlots);
    // Capability numbers are an open set (any u64 a caller passes): every cap not listed above is answered as
    // not modelled, which is the spec's statement, not a missing case.
    default:
      return open(
        `KVM_CHECK_EXTENSION(${cap}) is not modelled: the spec answers ${MODELLED_CAPS.join(', ')}${p.gmemAttributes ? `, ${p.gmemAttributes.cap}` : ''}${Object.keys(p.extraCaps).length ? ` and ${Object.keys(p.extraCaps).join(', ')}` : ''}`,
      );
  }
}
