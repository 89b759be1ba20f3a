/**
 * Platform profiles: guest_memfd as each confidential-computing platform uses it (kernel-abi.md §5). Apart from
 * sw-protected (checked on the lab kernel, spec/profiles/sw-protected.ts), none of them can run on this
 * project's machines: they are modelled, and their suites run against the reference backend only.
 */
import { INIT_SHARED, MMAP } from '../flags/index.ts';
import type { Profile } from '../profile.ts';
import { modelledSuites } from './suites.ts';
import { LINUX_6_18_CHOICES } from './linux-6.18.ts';
import { CCA_REALM, DEFAULT_VM, PKVM_VM, SNP_VM, TDX_VM } from './vmTypes.ts';

/** A typical x86 host build: SMM address space, per-VM memory attributes present. */
export const X86_CHOICES = { ...LINUX_6_18_CHOICES, setMemoryAttributesMissing: null, addressSpaces: 2 };
/**
 * arm64: no per-VM memory attributes (unknown VM ioctls are EINVAL on arm64), no SMM, and no internal memslots
 * (KVM_USER_MEM_SLOTS = SHRT_MAX - KVM_INTERNAL_MEM_SLOTS: 32767 here, where x86 keeps 3 for itself).
 */
export const ARM64_CHOICES = {
  ...LINUX_6_18_CHOICES,
  setMemoryAttributesMissing: 'EINVAL' as const,
  addressSpaces: 1,
  maxGpaBits: 48,
  userMemSlots: 32767,
};

/** sw-protected has its own file: it is checked against the lab kernel. */
export { SW_PROTECTED } from './sw-protected.ts';

/** What the modelled platforms share: drawn against linux-6.18, with its flags and their architecture's choices. */
type PlatformFacts = Pick<Profile, 'name' | 'title' | 'summary' | 'sources' | 'arch' | 'vmTypes'> & Partial<Profile>;
function modelledPlatform(p: PlatformFacts): Profile {
  return {
    kind: 'platform',
    checkedAgainstKernel: false,
    base: 'linux-6.18',
    flags: [MMAP, INIT_SHARED],
    choices: p.arch === 'arm64' ? ARM64_CHOICES : X86_CHOICES,
    extraCaps: {},
    suites: modelledSuites(),
    ...p,
  };
}

export const SEV_SNP = modelledPlatform({
  name: 'sev-snp',
  title: 'AMD SEV-SNP (mainline)',
  summary:
    'The AMD-SP firmware and RMP own private pages: populate with KVM_SEV_SNP_LAUNCH_UPDATE between LAUNCH_START and LAUNCH_FINISH into private destinations; destructive conversion through per-VM attributes (plaintext does not survive).',
  sources: ['kernel-abi.md §2.19, §2.20, §5', 'seed 001 (private as tracked by KVM vs by the trusted entity)'],
  arch: 'x86_64',
  vmTypes: { default: DEFAULT_VM, sev: DEFAULT_VM, sev_es: DEFAULT_VM, snp: SNP_VM },
});

export const TDX = modelledPlatform({
  name: 'tdx',
  title: 'Intel TDX (mainline)',
  summary:
    'The TDX module owns private pages: KVM_TDX_INIT_MEM_REGION (PAGE.ADD, optional MR.EXTEND) before KVM_TDX_FINALIZE_VM; private→shared removes the page from the TD, so conversion zeroes.',
  sources: ['kernel-abi.md §2.19, §5'],
  arch: 'x86_64',
  vmTypes: { default: DEFAULT_VM, tdx: TDX_VM },
});

export const PKVM = modelledPlatform({
  name: 'pkvm',
  title: 'arm64 pKVM protected VM (in flight)',
  summary:
    'The EL2 hypervisor owns protected memory; share/unshare keeps the same physical page (in place, content preserved), which is why pKVM needs in-place conversion. A host user access to private memory is SIGSEGV.',
  sources: ['kernel-abi.md §5 (pKVM column)', 'seed 004 (Perret: pKVM SEGVs user space; exclusive GUP)'],
  arch: 'arm64',
  vmTypes: { default: DEFAULT_VM, pkvm: PKVM_VM },
  gmemAttributes: { cap: 250, errorOffset: true },
});

export const ARM_CCA = modelledPlatform({
  name: 'arm-cca',
  title: 'Arm CCA Realm (series v15, phase 2 plan)',
  summary:
    'The RMM owns Realm memory (granule protection): one mmap-able INIT_SHARED guest_memfd converted with KVM_SET_MEMORY_ATTRIBUTES2; RIPAS changes are destructive; KVM_ARM_RMI_POPULATE loads private destinations before the first run.',
  sources: ['kernel-abi.md §5 (CCA column), §1.1 (KVM_ARM_RMI_POPULATE)', 'CCA-v15 (Steven Price)'],
  arch: 'arm64',
  vmTypes: { default: DEFAULT_VM, cca: CCA_REALM },
  // Realm memory is the guest's: the memslot stays, the host mapping goes (with it, 1167 leaf paths).
  suites: modelledSuites({ maps: 0 }),
  gmemAttributes: { cap: 250, errorOffset: true },
});
