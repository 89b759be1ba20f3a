/**
 * linux-7.3: upstream guest_memfd in Linux 7.3, default VM type, measured on the project's lab kernel
 * (`gmem-spec lab`: Debian's linux-source-7.3 7.3.4-1~bpo13+1 built with KVM_SW_PROTECTED_VM, booted under
 * QEMU TCG with nested SVM). docs/kernel-observations.md ("Linux 7.3 on the lab") lists every difference from
 * linux-6.18 with the step that shows it, and says which are the 7.3 ABI and which the lab's configuration.
 */
import { INIT_SHARED, MMAP } from '../flags/index.ts';
import type { Choices, Profile } from '../profile.ts';
import { kernelSuites } from './suites.ts';
import { LINUX_6_18_CHOICES } from './linux-6.18.ts';
import { DEFAULT_VM } from './vmTypes.ts';

export const LINUX_7_3_CHOICES: Choices = {
  ...LINUX_6_18_CHOICES,
  // ABI: the guest_memfd binding moved into kvm_gmem_commit_memory_region, which answers an overlap with EEXIST.
  gmemBindingOverlapErrno: 'EEXIST',
  // Configuration: KVM_SW_PROTECTED_VM brings CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES, so the ioctl exists (and a
  // default VM refuses PRIVATE with EINVAL instead of the missing ioctl's ENOTTY).
  setMemoryAttributesMissing: null,
  // Configuration: KVM_SMM=y, a second (SMM) address space for slot ids 0x10000 and up.
  addressSpaces: 2,
  // Configuration: the lab's emulated CPU (QEMU TCG `-cpu max`) has 40 physical address bits.
  maxGpaBits: 40,
  // Configuration: the lab kernel has no CONFIG_KSM, so MADV_MERGEABLE / UNMERGEABLE are EINVAL.
  madvise: { ...LINUX_6_18_CHOICES.madvise, mergeable: 'EINVAL', unmergeable: 'EINVAL' },
};

export const LINUX_7_3: Profile = {
  name: 'linux-7.3',
  title: 'Linux 7.3 upstream (default VM), as the lab builds it',
  kind: 'upstream',
  summary:
    'guest_memfd in 7.3, default VM type: as linux-6.18, except that an overlapping guest_memfd binding fails with EEXIST (the file has its own pseudo-filesystem and takes no leases, which no operation here observes). userfaultfd cannot register a guest_memfd mapping in any mode (EINVAL). Checked step by step against the lab kernel (7.3.4, KVM_SW_PROTECTED_VM, SMM, TDP, 40-bit guest physical addresses).',
  sources: [
    'docs/kernel-observations.md ("Linux 7.3 on the lab")',
    'virt/kvm/guest_memfd.c and arch/x86/kvm (linux-source-7.3 7.3.4-1~bpo13+1)',
    'examples/corpus/linux-7.3 (recorded on the lab)',
  ],
  checkedAgainstKernel: true,
  base: 'linux-6.18',
  arch: 'x86_64',
  vmTypes: { default: DEFAULT_VM },
  flags: [MMAP, INIT_SHARED],
  choices: LINUX_7_3_CHOICES,
  // Measured on the lab, beyond what spec/rules/caps.ts derives for a default-VM profile: the kernel also offers
  // KVM_X86_SW_PROTECTED_VM (VM types 0x3; the sw-protected profile models that type), so /dev/kvm reports
  // MEMORY_ATTRIBUTES = PRIVATE while a default VM reports 0; EXIT_HYPERCALL's mask is MAP_GPA_RANGE.
  extraCaps: { 201: { kvm: 4096 }, 233: { kvm: 8, vm: 0 }, 235: { kvm: 3 } },
  // The lab kernel implements it (src/lab).
  suites: kernelSuites(),
  // userfaultfd: 7.3 has the generic vm_uffd_ops, but guest_memfd's vm_ops set none, so vma_can_userfault()
  // refuses MINOR, MISSING (and WP) on a guest_memfd VMA with EINVAL, and UFFDIO_CONTINUE finds no registered
  // VMA (ENOENT). UFFDIO_API offers features 0x7ffff: no guest_memfd bit. A memfd mapping accepts both modes.
  uffd: {
    registerModes: [],
    source:
      'measured on the lab (scripts/lab-probes/uffd-guest-memfd.c, examples/corpus/linux-7.3/uffd-*); mm/userfaultfd.c vma_can_userfault, virt/kvm/guest_memfd.c kvm_gmem_vm_ops (linux-source-7.3)',
  },
};
