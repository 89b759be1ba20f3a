/** Per-platform rules, shared by the profiles that include the platform (kernel-abi.md §5). */
import type { VmTypeRules } from '../profile.ts';

export const DEFAULT_VM: VmTypeRules = {
  hasPrivateMem: false,
  trustedEntity: 'none: the host is trusted',
  privateHostAccess: 'SIGBUS',
  conversion: 'none',
  conversionContent: 'preserve',
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
  conversionContent: 'preserve',
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
  conversionContent: 'scramble',
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
  conversionContent: 'zero',
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
  conversionContent: 'preserve',
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
  conversionContent: 'zero',
  populate: 'cca-rmi-populate',
  launch: true,
  trustedEntityPrepares: true,
  accessPrivacy: 'hardware',
};
