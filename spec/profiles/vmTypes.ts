/** Per-platform rules, shared by the profiles that include the platform (kernel-abi.md §5). */
import type { ConversionContent, VmTypeRules } from '../profile.ts';

/**
 * Content semantics, one per platform (kernel-abi.md §2.16 "Content semantics", §5 "Conversion with in-place
 * series"). guest_memfd never copies nor zeroes on conversion; what changes the bytes is the trusted entity taking
 * a page (the guest's first private fault) or giving it back. Populate in place takes the page with the bytes
 * userspace wrote (§2.16 "Populate in in-place mode", seed 001), so it is not listed: it preserves everywhere.
 */
const KEEPS_BYTES: ConversionContent = {
  toPrivate: 'preserve',
  toShared: 'preserve',
  source: 'kernel-abi.md §2.16 (guest_memfd does not zero or copy on conversion; SW_PROTECTED keeps the bytes)',
};
const SNP_CONTENT: ConversionContent = {
  toPrivate: 'scramble',
  toShared: 'scramble',
  source: 'kernel-abi.md §2.16, §5 (SNP: same page, RMP state changes, plaintext not preserved: the other side uses another key)',
};
const TDX_CONTENT: ConversionContent = {
  toPrivate: 'zero',
  toShared: 'zero',
  source: 'kernel-abi.md §5 (TDX: a page is added to the TD zeroed and accepted; private→shared removes it from the TD, data lost)',
};
const PKVM_CONTENT: ConversionContent = {
  toPrivate: 'preserve',
  toShared: 'preserve',
  source: 'kernel-abi.md §5 (pKVM: share/unshare keeps the same physical page, non-destructive); seed 004',
};
const CCA_CONTENT: ConversionContent = {
  toPrivate: 'zero',
  toShared: 'zero',
  source: 'kernel-abi.md §5 (CCA: RIPAS EMPTY↔RAM is destructive, RIPAS RAM pages are zeroed or re-initialised)',
};

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

export const SW_PROTECTED_VM: VmTypeRules = {
  hasPrivateMem: true,
  trustedEntity: 'none: KVM only emulates the private/shared split (development and testing)',
  privateHostAccess: 'SIGBUS',
  conversion: 'vm-attributes',
  conversionContent: KEEPS_BYTES,
  populate: 'none',
  launch: false,
  trustedEntityPrepares: false,
  accessPrivacy: 'attribute',
};

export const SNP_VM: VmTypeRules = {
  hasPrivateMem: true,
  trustedEntity: 'AMD Secure Processor firmware + RMP table',
  privateHostAccess: 'SIGBUS',
  conversion: 'vm-attributes',
  conversionContent: SNP_CONTENT,
  populate: 'snp-launch-update',
  launch: true,
  trustedEntityPrepares: true,
  accessPrivacy: 'hardware',
};

export const TDX_VM: VmTypeRules = {
  hasPrivateMem: true,
  trustedEntity: 'TDX module (SEAM) + CPU key IDs',
  privateHostAccess: 'SIGBUS',
  conversion: 'vm-attributes',
  conversionContent: TDX_CONTENT,
  populate: 'tdx-init-mem-region',
  launch: true,
  trustedEntityPrepares: true,
  accessPrivacy: 'hardware',
};

export const PKVM_VM: VmTypeRules = {
  hasPrivateMem: true,
  trustedEntity: 'pKVM hypervisor at EL2 (the host kernel is deprivileged)',
  privateHostAccess: 'SIGSEGV',
  conversion: 'in-place',
  conversionContent: PKVM_CONTENT,
  populate: 'none',
  launch: false,
  trustedEntityPrepares: true,
  accessPrivacy: 'hardware',
};

export const CCA_REALM: VmTypeRules = {
  hasPrivateMem: true,
  trustedEntity: 'RMM at R-EL2 with granule protection tables',
  privateHostAccess: 'SIGBUS',
  conversion: 'in-place',
  conversionContent: CCA_CONTENT,
  populate: 'cca-rmi-populate',
  launch: true,
  trustedEntityPrepares: true,
  accessPrivacy: 'hardware',
};
