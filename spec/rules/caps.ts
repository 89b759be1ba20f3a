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

/** What an answer is computed from: the profile, and the VM the query is made on (none: /dev/kvm). */
interface CapQuery {
  p: Profile;
  vmType: VmTypeName | undefined;
  types: readonly VmTypeName[];
  arm64: boolean;
  privateVm: boolean;
}

/**
 * One answer per capability the UAPI table (spec/constants.ts KVM_CAP) names, keyed by that name: a cap added to
 * the table does not compile until it is answered here or marked `unanswered` with the reason.
 */
const ANSWERS: { readonly [C in keyof typeof KVM_CAP]: ((q: CapQuery) => CapAnswer) | { unanswered: string } } = {
  GUEST_MEMFD: () => value(1),
  // Generic (kvm_vm_ioctl_check_extension_generic): every kernel with guest_memfd has it.
  USER_MEMORY2: () => value(1),
  // An x86 capability: arm64's check_extension answers 0 (it selects VM types in KVM_CREATE_VM's argument).
  VM_TYPES: ({ arm64, types }) =>
    arm64 ? value(0) : value(types.reduce((m, t) => (VM_TYPE[t] < 32 ? m | (1n << BigInt(VM_TYPE[t])) : m), 0n)),
  // No VM context: the answer for a default VM (kvm_arch_supports_gmem_init_shared(NULL) is true).
  GUEST_MEMFD_FLAGS: ({ p, vmType }) => value(flagMask(acceptedFlagDefs(p, vmType ?? 'default'))),
  MEMORY_ATTRIBUTES: ({ p, vmType, types }) => {
    if (p.choices.setMemoryAttributesMissing) return value(0);
    const usesVmAttrs = (t: VmTypeName) => p.vmTypes[t]?.hasPrivateMem === true && p.vmTypes[t]?.conversion === 'vm-attributes';
    if (vmType === undefined) return value(types.some(usesVmAttrs) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n);
    return value(usesVmAttrs(vmType) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n);
  },
  MEMORY_FAULT_INFO: ({ arm64 }) =>
    arm64 ? open('kernel-abi.md §1.4 gives KVM_CAP_MEMORY_FAULT_INFO for x86 only; arm64 is unconfirmed') : value(1),
  // x86: tdp_enabled (EPT/NPT), true on a host that can run these VM types.
  PRE_FAULT_MEMORY: ({ arm64 }) =>
    arm64 ? open('KVM_PRE_FAULT_MEMORY on arm64 was proposed; its status is unconfirmed (kernel-abi.md §1.4)') : value(1),
  // kvm_vm_ioctl_check_extension_generic: kvm ? kvm_arch_has_readonly_mem(kvm) : true.
  READONLY_MEM: ({ vmType, arm64 }) => {
    if (vmType === undefined) return value(1);
    if (arm64) return vmType === 'default' ? value(1) : open(`read-only memslots of an arm64 ${vmType} VM are unconfirmed`);
    return value(PROTECTED_STATE.has(vmType) ? 0 : 1);
  },
  // Only compiled in with more than one address space (x86 SMM); otherwise the arch answers 0. A VM with
  // private memory has no SMM address space (kvm_arch_nr_memslot_as_ids).
  MULTI_ADDRESS_SPACE: ({ p, privateVm }) => (p.choices.addressSpaces <= 1 ? value(0) : value(privateVm ? 1 : p.choices.addressSpaces)),
  NR_MEMSLOTS: ({ p }) => value(p.choices.userMemSlots),
  EXIT_HYPERCALL: { unanswered: 'the hypercall exits a VMM enables; no guest_memfd fact depends on its answer' },
  GUEST_MEMFD_MEMORY_ATTRIBUTES: { unanswered: "answered by a profile's gmemAttributes (its number is in flux)" },
};

const BY_NUMBER: ReadonlyMap<number, (q: CapQuery) => CapAnswer> = new Map(
  (Object.keys(ANSWERS) as (keyof typeof KVM_CAP)[]).flatMap((name) => {
    const a = ANSWERS[name];
    return typeof a === 'function' ? [[KVM_CAP[name] as number, a] as const] : [];
  }),
);

/** The capabilities this module answers, by number (for the docs and the tests). */
export const MODELLED_CAPS: readonly number[] = [...BY_NUMBER.keys()].sort((a, b) => a - b);

/**
 * What KVM_CHECK_EXTENSION(cap) answers on /dev/kvm (`vmType` undefined) or on a VM of `vmType`.
 */
export function capAnswer(p: Profile, cap: bigint, vmType: VmTypeName | undefined): CapAnswer {
  const n = Number(cap);
  const extra = p.extraCaps[n];
  if (extra) return value(vmType === undefined ? extra.kvm : (extra.vm ?? extra.kvm));
  if (p.gmemAttributes && n === p.gmemAttributes.cap) {
    const r = vmType === undefined ? undefined : p.vmTypes[vmType];
    return value(r?.hasPrivateMem && r.conversion === 'in-place' ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n);
  }
  const answer = BY_NUMBER.get(n);
  // Capability numbers are an open set (any u64 a caller passes): one the table does not answer is not modelled,
  // which is the spec's statement, not a missing case.
  if (!answer)
    return open(
      `KVM_CHECK_EXTENSION(${cap}) is not modelled: the spec answers ${MODELLED_CAPS.join(', ')}${p.gmemAttributes ? `, ${p.gmemAttributes.cap}` : ''}${Object.keys(p.extraCaps).length ? ` and ${Object.keys(p.extraCaps).join(', ')}` : ''}`,
    );
  const privateVm = vmType !== undefined && p.vmTypes[vmType]?.hasPrivateMem === true;
  return answer({ p, vmType, types: Object.keys(p.vmTypes) as VmTypeName[], arm64: p.arch === 'arm64', privateVm });
}
