/** Per-platform rules, shared by the profiles that include the platform (kernel-abi.md §5). */
import type { ConversionContent, VmTypeRules } from '../profile.ts';

/**
 * Content semantics, one per platform (kernel-abi.md §2.16 "Content semantics", §5 "Conversion with in-place
 * series"). guest_memfd never copies nor zeroes on conversion; what changes the bytes is the trusted entity taking
 * a page (the guest's first private fault) or giving it back. Populate in place takes the page with the bytes
 * userspace wrote (§2.16 "Populate in in-place mode", seed 001), so it is not listed: it preserves everywhere.
 */
/** guest_memfd and the trusted entity do the same thing to the bytes in both directions on every platform here. */
const both = (effect: ConversionContent['toPrivate'], source: string): ConversionContent => ({
  toPrivate: effect,
  toShared: effect,
  source,
});

const KEEPS_BYTES = both('preserve', 'kernel-abi.md §2.16 (guest_memfd does not zero or copy on conversion; SW_PROTECTED keeps the bytes)');
const SNP_CONTENT = both(
  'scramble',
  'kernel-abi.md §2.16, §5 (SNP: same page, RMP state changes, plaintext not preserved: the other side uses another key)',
);
const TDX_CONTENT = both(
  'zero',
  'kernel-abi.md §5 (TDX: a page is added to the TD zeroed and accepted; private→shared removes it from the TD, data lost)',
);
const PKVM_CONTENT = both('preserve', 'kernel-abi.md §5 (pKVM: share/unshare keeps the same physical page, non-destructive); seed 004');
const CCA_CONTENT = both('zero', 'kernel-abi.md §5 (CCA: RIPAS EMPTY↔RAM is destructive, RIPAS RAM pages are zeroed or re-initialised)');

export const DEFAULT_VM: VmTypeRules = {
  hasPrivateMem: false,
  trustedEntity: 'none: the host is trusted',
  privateHostAccess: 'SIGBUS',
  conversion: 'none',
  conversionContent: KEEPS_BYTES,
  populate: 'none',
  launch: false,
  trustedEntityPrepares: false,
  accessPrivacy: 'attribute',
};

/** The default VM with a private/shared split that KVM emulates: no trusted entity, the attribute decides. */
export const SW_PROTECTED_VM: VmTypeRules = {
  ...DEFAULT_VM,
  hasPrivateMem: true,
  trustedEntity: 'none: KVM only emulates the private/shared split (development and testing)',
  conversion: 'vm-attributes',
};

/**
 * What the confidential platforms share: private memory that a trusted entity takes at the guest's first private
 * fault, a host access to it that is SIGBUS, and an access's private-ness that comes from the hardware.
 */
const CONFIDENTIAL: Pick<VmTypeRules, 'hasPrivateMem' | 'privateHostAccess' | 'trustedEntityPrepares' | 'accessPrivacy'> = {
  hasPrivateMem: true,
  privateHostAccess: 'SIGBUS',
  trustedEntityPrepares: true,
  accessPrivacy: 'hardware',
};

export const SNP_VM: VmTypeRules = {
  ...CONFIDENTIAL,
  trustedEntity: 'AMD Secure Processor firmware + RMP table',
  conversion: 'vm-attributes',
  conversionContent: SNP_CONTENT,
  populate: 'snp-launch-update',
  launch: true,
};

export const TDX_VM: VmTypeRules = {
  ...CONFIDENTIAL,
  trustedEntity: 'TDX module (SEAM) + CPU key IDs',
  conversion: 'vm-attributes',
  conversionContent: TDX_CONTENT,
  populate: 'tdx-init-mem-region',
  launch: true,
};

export const PKVM_VM: VmTypeRules = {
  ...CONFIDENTIAL,
  trustedEntity: 'pKVM hypervisor at EL2 (the host kernel is deprivileged)',
  privateHostAccess: 'SIGSEGV',
  conversion: 'in-place',
  conversionContent: PKVM_CONTENT,
  populate: 'none',
  launch: false,
};

export const CCA_REALM: VmTypeRules = {
  ...CONFIDENTIAL,
  trustedEntity: 'RMM at R-EL2 with granule protection tables',
  conversion: 'in-place',
  conversionContent: CCA_CONTENT,
  populate: 'cca-rmi-populate',
  launch: true,
};
