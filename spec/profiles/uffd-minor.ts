/**
 * uffd-minor: the proposal to let userfaultfd work on guest_memfd mappings (kernel-abi.md §4.3; seed 002), on top
 * of linux-7.3 (the lab kernel, default VM, MMAP | INIT_SHARED). Modelled only: no kernel here implements it.
 */
import type { Profile } from '../profile.ts';
import { modelledSuites } from './suites.ts';
import { LINUX_7_3 } from './linux-7.3.ts';

export const UFFD_MINOR: Profile = {
  ...LINUX_7_3,
  name: 'uffd-minor',
  title: 'userfaultfd MINOR / MISSING on guest_memfd (Kalyazin v3, Rapoport v2)',
  kind: 'proposal',
  summary:
    'UFFDIO_REGISTER accepts MINOR and MISSING on a guest_memfd mapping. A host fault on a registered page that is in the page cache but not mapped there waits on a minor userfault until UFFDIO_CONTINUE maps that page; a fault on a hole waits on a missing userfault. Only shared, host-faultable pages are involved: a private page is refused (SIGBUS) before any userfault. KVM accesses guest memory through the userspace mapping (userspace_addr), so its own faults there wait on the same userfault; guest faults through guest_memfd itself do not.',
  sources: [
    'kernel-abi.md §4.3 (Kalyazin v3 Apr 2025: UFFD_FEATURE_MINOR_GUEST_MEMFD, can_userfault; Rapoport v2 2026-03-06 `20260306171815.3160826-1-rppt@kernel.org`: vm_uffd_ops, MINOR and MISSING)',
    'seed 002 (Kalyazin: "KVM would be accessing those pages via userspace page tables ... In order for such faults to be handled in userspace, guest_memfd needs to support userfaultfd")',
    'userfaultfd(2): UFFDIO_REGISTER_MODE_MINOR / MISSING, UFFDIO_CONTINUE (EEXIST, EFAULT, ENOENT); mm/userfaultfd.c (linux-source-7.3) for the generic checks',
    'spec/profiles/linux-7.3.ts for everything else (measured on the lab)',
  ],
  checkedAgainstKernel: false,
  base: 'linux-7.3',
  // userfaultfd works on the host mapping: the mapping and a pin stay, the memslot goes (no vCPU access here).
  suites: modelledSuites({ pins: 1, slots: 0 }),
  uffd: {
    registerModes: ['minor', 'missing'],
    source: 'kernel-abi.md §4.3 (proposal: MINOR, and MISSING in the vm_uffd_ops design, accepted on guest_memfd VMAs); seed 002',
  },
};
